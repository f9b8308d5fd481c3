/**
 * The reference values of the clock/pizza measures (analysis/pizza.ts; Zhong et al. 2023, §4):
 * their two example models, measured with their notebook's code (fjzzq2002/pizza,
 * code/eval-main.ipynb) on their saved weights (code/save/model_p99zdpze5l.pt, Model A, and
 * model_l8k1hzciux.pt, Model B; P = 59, one layer, d_model 128). Model A reproduces the notebook's
 * printed 0.1717 and 0.9937. Shown beside a run's values in the page and by `analyze`.
 */
export const CLOCK_PIZZA_REFERENCE = {
  clock: { distanceIrrelevance: 0.848, gradientSymmetricity: 0.334, model: 'Model B (attention rate 1)' },
  pizza: { distanceIrrelevance: 0.172, gradientSymmetricity: 0.994, model: 'Model A (attention rate 0)' },
} as const;
