/**
 * The paper's tables over the runs of a sweep (App. C: Tables 3, 4, 5 and 6, over its five seeds),
 * built from each run's measures at its final weights. Shared by the CLI (`analyze DIR`,
 * src/cli/tables.ts) and the page's sweep section (the sweep worker measures, the view draws).
 * Table 5 describes every run that kept its weights; Tables 3, 4 and 6 test the algorithm, so they
 * cover the runs that grokked and have key frequencies, and name the others with the reason.
 */
import { GROKKED_ACC } from '../analysis/phases.ts';
import { NEURON_FVE_THRESHOLD } from '../analysis/neuron-threshold.ts';

/** What the tables need of one run at its final weights (`analyze` of it, or the sweep worker). */
export interface RunFinal {
  /** The run's place in the sweep (`seed=3`). */
  point: string;
  epoch: number;
  testLoss: number;
  testAcc: number;
  /** Loss over all P² pairs: the reference the ablations of Tables 4 and 6 are read against. */
  allLoss: number;
  allAcc: number;
  keyFreqs: number[];
  giniWE: number;
  giniWL: number;
  logitFVE: number;
  /** Neurons with FVE above NEURON_FVE_THRESHOLD by one frequency, as a fraction of d_mlp. */
  neuronsExplained: number;
  /** §4.2 per key frequency, FVE of ⟨MLP, u_k⟩ by cos(w_k(a+b)) and of ⟨MLP, v_k⟩ by sin (ANALYSIS.md §7.4). */
  directionFVE: Record<string, { cos: number; sin: number }>;
  /** §4.3 (ANALYSIS.md §7.5), over all pairs. */
  lossOnlyKeyFreqs: number;
  lossKeyFreqsRemoved: number;
  /** §7.7 the skip connection around the MLP mean-ablated, over all pairs. */
  lossSkipAblated: number;
  accSkipAblated: number;
}

/** What the sweep worker measures of a run (the view knows its place in the sweep). */
export type RunFinalMeasures = Omit<RunFinal, 'point'>;

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n − 1); NaN for one run. */
  sd: number;
}

export function meanSd(values: number[]): MeanSd {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : NaN;
  return { mean, sd };
}

interface TableBase {
  table: string;
  /** Which runs the table measured, and which it left out and why. */
  covers: string;
  skipped: { point: string; why: string }[];
  /** What the paper reports, to read the rows against. */
  paper: string;
}

export interface Table3 extends TableBase {
  rows: { point: string; fits: { k: number; cos: number; sin: number }[] }[];
  /** Over every fit (u_k and v_k) of every covered run. */
  summary: { min: number; mean: number };
}
export interface Table4 extends TableBase {
  rows: { point: string; loss: number; lossOnlyKeyFreqs: number; lossKeyFreqsRemoved: number }[];
  summary: Record<'loss' | 'lossOnlyKeyFreqs' | 'lossKeyFreqsRemoved', MeanSd>;
}
export interface Table5 extends TableBase {
  rows: Pick<RunFinal, 'point' | 'epoch' | 'testLoss' | 'giniWE' | 'giniWL' | 'keyFreqs' | 'logitFVE' | 'neuronsExplained'>[];
  neuronRule: string;
  summary: Record<(typeof TABLE5_COLUMNS)[number], MeanSd>;
}
export interface Table6 extends TableBase {
  rows: { point: string; loss: number; lossSkipAblated: number; accSkipAblated: number }[];
  summary: Record<'lossSkipAblated' | 'accSkipAblated', MeanSd>;
}

export interface SeedTables {
  table3: Table3;
  table4: Table4;
  table5: Table5;
  table6: Table6;
}

const TABLE5_COLUMNS = ['testLoss', 'giniWE', 'giniWL', 'logitFVE', 'neuronsExplained'] as const;

const summarize = <R, K extends string>(rows: R[], keys: readonly K[], get: (r: R, k: K) => number) =>
  Object.fromEntries(keys.map((k) => [k, meanSd(rows.map((r) => get(r, k)))])) as Record<K, MeanSd>;

/** Why a run is left out of Tables 3, 4 and 6, or null. */
export function notGrokked(r: RunFinal): string | null {
  if (!(r.testAcc >= GROKKED_ACC)) return `did not grok: final test accuracy ${(100 * r.testAcc).toFixed(1)}% < ${100 * GROKKED_ACC}%`;
  if (r.keyFreqs.length === 0) return 'no key frequencies';
  return null;
}

/**
 * The four tables over `runs` (those with final weights) of a sweep of `total` runs; `without`
 * names the runs that kept no weights, and why.
 */
export function seedTables(runs: RunFinal[], total: number, without: { point: string; why: string }[]): SeedTables {
  const noWeights = without;
  const say = (n: number, what: string, left: { point: string; why: string }[]) =>
    `${n} of the sweep's ${total} runs, ${what}${left.length > 0 ? `; left out: ${left.map((s) => `${s.point} (${s.why})`).join(', ')}` : ''}`;
  const grokked = runs.filter((r) => notGrokked(r) === null);
  const skipped = [...noWeights, ...runs.flatMap((r) => (notGrokked(r) ? [{ point: r.point, why: notGrokked(r)! }] : []))];
  const coversGrokked = say(grokked.length, 'those that grokked, each at its final weights', skipped);
  const fits = grokked.flatMap((r) => r.keyFreqs.flatMap((k) => [r.directionFVE[k]?.cos ?? NaN, r.directionFVE[k]?.sin ?? NaN]));
  const t4rows = grokked.map((r) => ({ point: r.point, loss: r.allLoss, lossOnlyKeyFreqs: r.lossOnlyKeyFreqs, lossKeyFreqsRemoved: r.lossKeyFreqsRemoved }));
  const t6rows = grokked.map((r) => ({ point: r.point, loss: r.allLoss, lossSkipAblated: r.lossSkipAblated, accSkipAblated: r.accSkipAblated }));
  return {
    table3: {
      table: 'Table 3: per run and key frequency k, FVE of ⟨MLP(a, b), u_k⟩ by cos(w_k(a+b)) and of ⟨MLP(a, b), v_k⟩ by sin(w_k(a+b))',
      covers: coversGrokked,
      skipped,
      paper: 'every fit above 90% (§4.2)',
      rows: grokked.map((r) => ({ point: r.point, fits: r.keyFreqs.map((k) => ({ k, cos: r.directionFVE[k]?.cos ?? NaN, sin: r.directionFVE[k]?.sin ?? NaN })) })),
      summary: { min: fits.length > 0 ? Math.min(...fits) : NaN, mean: fits.length > 0 ? fits.reduce((a, b) => a + b, 0) / fits.length : NaN },
    },
    table4: {
      table: "Table 4: loss over all P² pairs with only the key frequencies' components of the logits, and with them removed (logits per c in the 2-D Fourier basis of (a, b))",
      covers: coversGrokked,
      skipped,
      paper: "only the key frequencies: lower than the model's loss (mainline 2.4e-7 → 4.7e-8); removed: at or above chance (ln P)",
      rows: t4rows,
      summary: summarize(t4rows, ['loss', 'lossOnlyKeyFreqs', 'lossKeyFreqsRemoved'] as const, (r, k) => r[k]),
    },
    table5: {
      table: 'Table 5: per run, test loss, Gini of W_E and W_L, key frequencies, logit FVE, fraction of neurons explained by one frequency',
      covers: say(runs.length, 'each at its final weights', noWeights),
      skipped: noWeights,
      paper: 'five seeds (App. C): each learns the same algorithm, on its own key frequencies',
      neuronRule: `FVE > ${NEURON_FVE_THRESHOLD} by the neuron's best frequency`,
      rows: runs.map((r) => ({ point: r.point, epoch: r.epoch, testLoss: r.testLoss, giniWE: r.giniWE, giniWL: r.giniWL, keyFreqs: r.keyFreqs, logitFVE: r.logitFVE, neuronsExplained: r.neuronsExplained })),
      summary: summarize(runs, TABLE5_COLUMNS, (r, k) => r[k]),
    },
    table6: {
      table: 'Table 6: loss and accuracy over all P² pairs with the skip connection around the MLP mean-ablated; mean and standard deviation over runs',
      covers: coversGrokked,
      skipped,
      paper: 'the loss stays small and the accuracy near 100%: the skip connection carries little',
      rows: t6rows,
      summary: summarize(t6rows, ['lossSkipAblated', 'accSkipAblated'] as const, (r, k) => r[k]),
    },
  };
}
