/**
 * The paper's tables over the runs of a sweep (App. C, Table 5: per seed, test loss, the Gini
 * coefficients of W_E and W_L, the key frequencies, the logit FVE and the fraction of neurons one
 * frequency explains), measured on each run's final weights: the run files `sweep --record` wrote.
 * Each table says which runs it covers; runs without weights are named, not guessed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NEURON_FVE_THRESHOLD } from '../analysis/analyzer.ts';
import { UsageError } from './node/args.ts';

/** A directory holding a sweep's sweep.json. */
export function isSweepDir(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true && existsSync(join(path, 'sweep.json'));
}

export interface Table5Row {
  point: string;
  epoch: number;
  testLoss: number;
  giniWE: number;
  giniWL: number;
  keyFreqs: number[];
  logitFVE: number;
  /** Neurons with FVE above NEURON_FVE_THRESHOLD by one frequency, as a fraction of d_mlp. */
  neuronsExplained: number;
}

const COLUMNS = ['testLoss', 'giniWE', 'giniWL', 'logitFVE', 'neuronsExplained'] as const;

function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : NaN;
  return { mean, sd };
}

/** Table 5 of a sweep directory; `analyzeRun` is `analyze` of one run file (its final weights). */
export async function table5(dir: string, analyzeRun: (file: string) => Promise<Record<string, unknown>>) {
  let index: { runs?: { record?: string; point?: string; index?: number }[] };
  try {
    index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
  } catch (err) {
    throw new UsageError(`${dir}/sweep.json is not a sweep index: ${err instanceof Error ? err.message : String(err)}`);
  }
  const runs = Array.isArray(index.runs) ? index.runs : [];
  const rows: Table5Row[] = [];
  const without: string[] = [];
  for (const run of runs) {
    const point = String(run.point ?? `run ${run.index}`);
    if (!run.record) {
      without.push(point);
      continue;
    }
    const m = await analyzeRun(join(dir, run.record));
    const dMlp = (m.config as { dMlp: number }).dMlp;
    rows.push({
      point,
      epoch: m.epoch as number,
      testLoss: m.testLoss as number,
      giniWE: m.giniWE as number,
      giniWL: m.giniWL as number,
      keyFreqs: m.keyFreqs as number[],
      logitFVE: m.logitFVE as number,
      neuronsExplained: (m.neuronsWellExplained as number) / dMlp,
    });
  }
  if (rows.length === 0) throw new UsageError(`${dir}: none of its ${runs.length} runs kept its weights (train the sweep with --record)`);
  const summary = Object.fromEntries(COLUMNS.map((c) => [c, meanSd(rows.map((r) => r[c]))]));
  return {
    table: 'Table 5: per run, test loss, Gini of W_E and W_L, key frequencies, logit FVE, fraction of neurons explained by one frequency',
    covers: `${rows.length} of the sweep's ${runs.length} runs, each at its final weights${without.length > 0 ? `; without weights (no --record): ${without.join(', ')}` : ''}`,
    neuronRule: `FVE > ${NEURON_FVE_THRESHOLD} by the neuron's best frequency`,
    rows,
    summary,
  };
}
