/**
 * The paper's tasks over ℤ_P (ANALYSIS.md §1): the model reads "a b =" (tokens 0…P−1 are numbers,
 * P is '=') and answers f(a, b) mod P, learned from a fixed share of the P² pairs. Modular addition
 * is the mainline; subtraction and a² + ab + b² are the appendix's other functions, and a random
 * table the control that can be memorized but never generalized.
 */
import type { PairTableData, TaskSpec } from './spec.ts';

const pairTable = (label: PairTableData['label'], randomTable = false): PairTableData => ({ kind: 'pair-table', label, randomTable });

/** What every ℤ_P task shares: its inputs, its family, and all of the paper's measures and views. */
const overZP = {
  vocab: ({ p }) => p + 1,
  context: () => 3,
  classes: ({ p }) => p,
  lossAt: 'last',
  family: 'pair-transformer',
  measures: ['fourier', 'neurons', 'attention', 'evidence'],
  views: ['training', 'circle', 'measures', 'fourier', 'attention', 'neurons', 'logits', 'evidence', 'input', 'sweep'],
} as const satisfies Omit<TaskSpec, 'label' | 'data' | 'aliases'>;

export const MODULAR_TASKS = {
  add: { ...overZP, label: '(a + b) mod P', data: pairTable((a, b, p) => (a + b) % p), aliases: [] },
  sub: { ...overZP, label: '(a − b) mod P', data: pairTable((a, b, p) => (((a - b) % p) + p) % p), aliases: ['subtract'] },
  poly: { ...overZP, label: '(a² + ab + b²) mod P', data: pairTable((a, b, p) => (a * a + a * b + b * b) % p), aliases: ['x2xyy2'] },
  rand: { ...overZP, label: 'random table (never generalizes)', data: pairTable((a, b, p, table) => table![a * p + b], true), aliases: [] },
} satisfies Record<string, TaskSpec>;
