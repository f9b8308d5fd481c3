/**
 * The paper's tables over the runs of a sweep (App. C, Tables 3, 4, 5 and 6; src/run/seed-tables.ts),
 * measured on each run's final weights: the run files `sweep --record` wrote, each read by `analyze`.
 * Each table says which runs it covers; runs without weights are named, not guessed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { seedTables, type RunFinal, type SeedTables } from '../run/seed-tables.ts';
import { UsageError } from './node/args.ts';

/** A directory holding a sweep's sweep.json. */
export function isSweepDir(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true && existsSync(join(path, 'sweep.json'));
}

/** What the tables take of `analyze`'s output for one run file. */
export function runFinal(point: string, m: Record<string, unknown>): RunFinal {
  const n = (k: string) => m[k] as number;
  return {
    point,
    epoch: n('epoch'),
    testLoss: n('testLoss'),
    testAcc: n('testAcc'),
    allLoss: n('allLoss'),
    allAcc: n('allAcc'),
    keyFreqs: m.keyFreqs as number[],
    giniWE: n('giniWE'),
    giniWL: n('giniWL'),
    logitFVE: n('logitFVE'),
    neuronsExplained: n('neuronsWellExplained') / (m.config as { dMlp: number }).dMlp,
    directionFVE: m.directionFVE as RunFinal['directionFVE'],
    lossOnlyKeyFreqs: n('lossOnlyKeyFreqs'),
    lossKeyFreqsRemoved: n('lossKeyFreqsRemoved'),
    lossSkipAblated: n('lossSkipAblated'),
    accSkipAblated: n('accSkipAblated'),
  };
}

/** Tables 3–6 of a sweep directory; `analyzeRun` is `analyze` of one run file (its final weights). */
export async function sweepTables(dir: string, analyzeRun: (file: string) => Promise<Record<string, unknown>>): Promise<{ sweep: string } & SeedTables> {
  let index: { runs?: { record?: string; point?: string; index?: number }[] };
  try {
    index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
  } catch (err) {
    throw new UsageError(`${dir}/sweep.json is not a sweep index: ${err instanceof Error ? err.message : String(err)}`);
  }
  const runs = Array.isArray(index.runs) ? index.runs : [];
  const finals: RunFinal[] = [];
  const without: { point: string; why: string }[] = [];
  for (const run of runs) {
    const point = String(run.point ?? `run ${run.index}`);
    if (!run.record) {
      without.push({ point, why: 'trained without --record' });
      continue;
    }
    finals.push(runFinal(point, await analyzeRun(join(dir, run.record))));
  }
  if (finals.length === 0) throw new UsageError(`${dir}: none of its ${runs.length} runs kept its weights (train the sweep with --record)`);
  return { sweep: dir, ...seedTables(finals, runs.length, without) };
}
