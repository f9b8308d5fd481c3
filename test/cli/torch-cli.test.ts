/**
 * The CLI on PyTorch files: `analyze` measures the authors'-layout fixture on their split exactly
 * as PyTorch does (the fixture script evaluated it with the authors' forward in float64 cross-
 * entropy), including allLoss/allAcc over all P² pairs; a folder of per-epoch files is one run;
 * `train --init` starts from a .pth.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyze.ts';
import { parseArgs } from '../../src/cli/node/args.ts';
import { trainCommand } from '../../src/cli/train.ts';

const FIX = join(import.meta.dirname, '../fixtures/torch');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { authors_final: { measured: Record<string, number> } };
const BOOLEAN = new Set(['quiet']);

describe('CLI on PyTorch files', () => {
  it("analyze: the authors' checkpoint on their split, as PyTorch measures it, and on all P² pairs", async () => {
    const r = await analyzeCommand(parseArgs(['analyze', join(FIX, 'authors_final.pth'), '--backend', 'cpu'], BOOLEAN));
    expect(r.split).toMatch(/authors' split \(Python random, seed 3, 40% train, from the file\)/);
    expect(r.read).toMatch(/paper authors' layout/);
    const m = expected.authors_final.measured;
    for (const k of ['trainLoss', 'testLoss', 'allLoss']) expect(r[k] as number, k).toBeCloseTo(m[k], 5);
    // Accuracies are float32 on our side: equal to 1e-7 (one pair of 529 is 2e-3).
    for (const k of ['trainAcc', 'testAcc', 'allAcc']) expect(r[k] as number, k).toBeCloseTo(m[k], 7);
  });

  it('analyze: a folder of per-epoch files is one run, measured at its last epoch on the split of init.pth', async () => {
    const r = await analyzeCommand(parseArgs(['analyze', join(FIX, 'authors_run'), '--backend', 'cpu'], BOOLEAN));
    expect(r.epoch).toBe(20);
    expect(r.split).toBe('train_data from the file');
    expect(r.read).toMatch(/3 files of one run/);
  });

  it('analyze --split names the split of a file that does not say (a TransformerLens state dict)', async () => {
    const own = await analyzeCommand(parseArgs(['analyze', join(FIX, 'tl_state_dict.pth'), '--backend', 'cpu'], BOOLEAN));
    const py = await analyzeCommand(parseArgs(['analyze', join(FIX, 'tl_state_dict.pth'), '--backend', 'cpu', '--split', 'python', '--seed', '3', '--frac', '0.4'], BOOLEAN));
    expect(py.split).toBe('--split python');
    expect((py.config as { frac: number }).frac).toBe(0.4);
    // The same model on all pairs, whatever the split.
    expect(py.allLoss as number).toBeCloseTo(own.allLoss as number, 5);
    expect(py.trainLoss).not.toBe(own.trainLoss);
  });

  it('train --init starts from a .pth: its first checkpoint is the imported model', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'grokscope-torch-cli-')), 'run.json');
    await trainCommand(parseArgs(['train', '--init', join(FIX, 'authors_final.pth'), '--backend', 'cpu', '--epochs', '2', '--every', '1', '--out', out, '--quiet'], BOOLEAN));
    const run = JSON.parse(readFileSync(out, 'utf8')) as { config: { split: string; seed: number }; history: { trainLoss: number; testAcc: number }[] };
    expect(run.config).toMatchObject({ split: 'python', seed: 3 });
    expect(run.history[0].trainLoss).toBeCloseTo(expected.authors_final.measured.trainLoss, 5);
    expect(run.history[0].testAcc).toBeCloseTo(expected.authors_final.measured.testAcc, 7);
  });
});
