/** `analyze DIR` of a sweep: Table 5 over its runs' final weights, saying which runs it covers. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyze.ts';
import { parseArgs } from '../../src/cli/node/args.ts';
import { extractVary, sweepCommand } from '../../src/cli/sweep.ts';

const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--lr', '0.01', '--epochs', '20', '--every', '10'];

describe('Table 5 of a sweep (CLI)', () => {
  it('one row per run from its final weights, as analyze of that run file, with mean and sd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-table5-'));
    const { rest, vary } = extractVary(['sweep', ...SMALL, '--vary', 'seed=0-2', '--out', dir, '--quiet', '--record']);
    await sweepCommand(parseArgs(rest, new Set(['quiet', 'record'])), vary);
    const table = (await analyzeCommand(parseArgs(['analyze', dir], new Set()))) as unknown as {
      covers: string;
      rows: { point: string; epoch: number; testLoss: number; giniWL: number; keyFreqs: number[]; neuronsExplained: number }[];
      summary: Record<string, { mean: number; sd: number }>;
    };
    expect(table.rows.map((r) => r.point)).toEqual(['seed=0', 'seed=1', 'seed=2']);
    expect(table.covers).toMatch(/^3 of the sweep's 3 runs, each at its final weights$/);
    // Row 2 is analyze of run 2's file.
    const index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    const single = await analyzeCommand(parseArgs(['analyze', join(dir, index.runs[2].record)], new Set()));
    expect(table.rows[2]).toMatchObject({ epoch: 20, testLoss: single.testLoss, giniWL: single.giniWL, keyFreqs: single.keyFreqs });
    expect(table.rows[2].neuronsExplained).toBe((single.neuronsWellExplained as number) / 16);
    const losses = table.rows.map((r) => r.testLoss);
    const mean = losses.reduce((a, b) => a + b) / 3;
    expect(table.summary.testLoss.mean).toBeCloseTo(mean, 10);
    expect(table.summary.testLoss.sd).toBeCloseTo(Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / 2), 10);
    // A run without weights is named, not counted.
    delete index.runs[1].record;
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(index));
    const partial = (await analyzeCommand(parseArgs(['analyze', dir], new Set()))) as unknown as { covers: string; rows: unknown[] };
    expect(partial.rows).toHaveLength(2);
    expect(partial.covers).toBe("2 of the sweep's 3 runs, each at its final weights; without weights (no --record): seed=1");
  }, 120_000);
});
