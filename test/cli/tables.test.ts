/** `analyze DIR` of a sweep: Tables 3–6 over its runs' final weights, each saying which runs it covers. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GROKKED_ACC } from '../../src/analysis/phases.ts';
import { analyzeCommand } from '../../src/cli/analyze.ts';
import { parseArgs } from '../../src/cli/node/args.ts';
import { extractVary, sweepCommand } from '../../src/cli/sweep.ts';
import type { SeedTables } from '../../src/run/seed-tables.ts';

const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--lr', '0.01', '--epochs', '20', '--every', '10'];
// Of these two runs one groks by epoch 1,500 and one does not (seeds 1 and 0, measured here).
const GROKS = ['--p', '23', '--dm', '32', '--heads', '4', '--mlp', '64', '--frac', '0.6', '--lr', '0.01', '--epochs', '1500', '--every', '250'];

async function sweep(args: string[], seeds: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'grokscope-tables-'));
  const { rest, vary } = extractVary(['sweep', ...args, '--vary', `seed=${seeds}`, '--out', dir, '--quiet', '--record']);
  await sweepCommand(parseArgs(rest, new Set(['quiet', 'record'])), vary);
  return dir;
}
const tables = async (dir: string) => (await analyzeCommand(parseArgs(['analyze', dir], new Set()))) as unknown as SeedTables;

describe('the tables of a sweep (CLI)', () => {
  it('Table 5: one row per run from its final weights, as analyze of that run file, with mean and sd', async () => {
    const dir = await sweep(SMALL, '0-2');
    const { table5 } = await tables(dir);
    expect(table5.rows.map((r) => r.point)).toEqual(['seed=0', 'seed=1', 'seed=2']);
    expect(table5.covers).toMatch(/^3 of the sweep's 3 runs, each at its final weights$/);
    // Row 2 is analyze of run 2's file.
    const index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    const single = await analyzeCommand(parseArgs(['analyze', join(dir, index.runs[2].record)], new Set()));
    expect(table5.rows[2]).toMatchObject({ epoch: 20, testLoss: single.testLoss, giniWL: single.giniWL, keyFreqs: single.keyFreqs });
    expect(table5.rows[2].neuronsExplained).toBe((single.neuronsWellExplained as number) / 16);
    const losses = table5.rows.map((r) => r.testLoss);
    const mean = losses.reduce((a, b) => a + b) / 3;
    expect(table5.summary.testLoss.mean).toBeCloseTo(mean, 10);
    expect(table5.summary.testLoss.sd).toBeCloseTo(Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / 2), 10);
    // A run without weights is named, not counted.
    delete index.runs[1].record;
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(index));
    const partial = await tables(dir);
    expect(partial.table5.rows).toHaveLength(2);
    expect(partial.table5.covers).toBe("2 of the sweep's 3 runs, each at its final weights; left out: seed=1 (trained without --record)");
    expect(partial.table6.skipped[0]).toEqual({ point: 'seed=1', why: 'trained without --record' });
  }, 120_000);

  it('Tables 3, 4 and 6 cover the runs that grokked, with the values analyze gives each run file', async () => {
    const dir = await sweep(GROKS, '0-1');
    const t = await tables(dir);
    const index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    const singles = await Promise.all(index.runs.map((r: { record: string }) => analyzeCommand(parseArgs(['analyze', join(dir, r.record)], new Set()))));
    const grokked = singles.flatMap((s, i) => ((s.testAcc as number) >= GROKKED_ACC ? [i] : []));
    // The case needs one of each (else it tests nothing): see GROKS.
    expect(grokked).toHaveLength(1);
    const g = singles[grokked[0]];
    const point = `seed=${grokked[0]}`;
    for (const table of [t.table3, t.table4, t.table6]) {
      expect(table.rows.map((r) => r.point)).toEqual([point]);
      expect(table.skipped).toHaveLength(1);
      expect(table.skipped[0].why).toMatch(/^did not grok: final test accuracy/);
    }
    const keyFreqs = g.keyFreqs as number[];
    const fve = g.directionFVE as Record<string, { cos: number; sin: number }>;
    expect(t.table3.rows[0].fits).toEqual(keyFreqs.map((k) => ({ k, cos: fve[k].cos, sin: fve[k].sin })));
    expect(t.table4.rows[0]).toEqual({ point, loss: g.allLoss, lossOnlyKeyFreqs: g.lossOnlyKeyFreqs, lossKeyFreqsRemoved: g.lossKeyFreqsRemoved });
    expect(t.table6.rows[0]).toEqual({ point, loss: g.allLoss, lossSkipAblated: g.lossSkipAblated, accSkipAblated: g.accSkipAblated });
    expect(t.table6.summary.lossSkipAblated).toEqual({ mean: g.lossSkipAblated, sd: NaN });
  }, 300_000);
});
