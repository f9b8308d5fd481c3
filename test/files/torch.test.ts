/**
 * PyTorch files made by test/fixtures/torch/make_fixtures.py with Debian's python3-torch: each is
 * read back to the values the script wrote (weights are a closed form of their index, recomputed
 * here; splits and curves are in expected.json), and hostile or unsupported files are refused
 * with a message that says why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitPairs } from '../../src/task/pairs.ts';
import { combineTorchRuns } from '../../src/files/torch/combine.ts';
import { alignCurves, readTorchRun } from '../../src/files/torch/import.ts';
import { readTorchFile } from '../../src/files/torch/torch-file.ts';
import type { Weights } from '../../src/model/transformer/params.ts';

const DIR = join(import.meta.dirname, '../fixtures/torch');
const read = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  p: number;
  names: string[];
  shapes: Record<string, number[]>;
  authors_final: { epoch: number; seed: number; frac: number; weight_decay: number; train_losses: number[]; test_losses: number[] };
  authors_run: { epochs: number[]; shifts: number[]; train_indices: number[] };
  tl_demo_run: { epochs: number[]; shifts: number[]; train_indices: number[] };
};

/** The closed form the script wrote: parameter k, element i = sin(0.37 i + k + shift) / 3. */
function expectWeights(w: Weights, shift: number, vocabOut: number) {
  expected.names.forEach((name, k) => {
    const shape = [...expected.shapes[name]];
    const values = w[name];
    expect(values, name).toBeDefined();
    if (name === 'unembed.W_U' && vocabOut !== shape[1]) {
      // The TransformerLens files keep the first P output columns of the same matrix.
      for (let r = 0; r < shape[0]; r++) for (let c = 0; c < vocabOut; c++) expect(values[r * vocabOut + c]).toBeCloseTo(Math.sin(0.37 * (r * shape[1] + c) + k + shift) / 3, 6);
      return;
    }
    expect(values.length, name).toBe(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) expect(values[i], `${name}[${i}]`).toBeCloseTo(Math.sin(0.37 * i + k + shift) / 3, 6);
  });
}

describe('PyTorch files (torch.save zip archives)', () => {
  it("reads the authors' final checkpoint: their orientations converted, the optimizer's λ, the config's split, the loss curves", () => {
    const run = readTorchRun(read('authors_final.pth'));
    expect(run.scheme).toBe('authors');
    const c = run.config;
    expect([c.p, c.dModel, c.nHeads, c.dMlp, c.nLayers, c.vocabOut]).toEqual([23, 8, 2, 16, 1, 'p1']);
    expect([c.split, c.seed, c.frac]).toEqual(['python', expected.authors_final.seed, expected.authors_final.frac]);
    // The optimizer's param group (0.5) wins over the config dict's stale weight_decay (1).
    expect(c.weightDecay).toBe(expected.authors_final.weight_decay);
    expect(run.snapshots.map((s) => s.epoch)).toEqual([expected.authors_final.epoch]);
    expect(run.trainLosses).toEqual(expected.authors_final.train_losses);
    expect(run.testLosses).toEqual(expected.authors_final.test_losses);
    expectWeights(run.snapshots[0].checkpoint.weights, 0, 24);
  });

  it("reads the authors' per-epoch files as one run, with the split of init.pth's train_data", () => {
    const names = ['20.pth', 'init.pth', '10.pth'];
    const run = combineTorchRuns(names.map((n) => ({ name: n, run: readTorchRun(read(join('authors_run', n)), n) })));
    expect(run.snapshots.map((s) => s.epoch)).toEqual(expected.authors_run.epochs);
    run.snapshots.forEach((s, i) => expectWeights(s.checkpoint.weights, expected.authors_run.shifts[i], 24));
    expect(Array.from(run.trainIndices!).sort((a, b) => a - b)).toEqual(expected.authors_run.train_indices);
    // The same split as our `python` split of (P 23, 40%, seed 3): CPython's shuffle, reproduced.
    expect(Array.from(splitPairs(23, 0.4, 3, 'python').train)).toEqual(expected.authors_run.train_indices);
    // Each file's own losses, as points at its epoch (never an array as long as the run).
    expect(run.trainLosses).toBeNull();
    expect(run.lossPoints.map((pt) => pt.epoch)).toEqual([10, 20]);
    expect(run.lossPoints[0].train).toBeCloseTo(0.1, 12);
    expect(run.lossPoints[1].test).toBeCloseTo(0.1, 12);
  });

  it('reads a bare TransformerLens state dict (float64 → float32; zero biases and buffers dropped; P logits)', () => {
    const run = readTorchRun(read('tl_state_dict.pth'));
    expect(run.scheme).toBe('transformerlens');
    expect(run.config.vocabOut).toBe('p');
    expect(run.config.split).toBe('grokscope');
    expectWeights(run.snapshots[0].checkpoint.weights, 0, 23);
  });

  it("reads TransformerLens' Grokking-demo run file: checkpoints at checkpoint_epochs, the final model, train_indices, curves", () => {
    const run = readTorchRun(read('tl_demo_run.pth'));
    expect(run.snapshots.map((s) => s.epoch)).toEqual(expected.tl_demo_run.epochs);
    run.snapshots.forEach((s, i) => expectWeights(s.checkpoint.weights, expected.tl_demo_run.shifts[i], 23));
    expect(Array.from(run.trainIndices!).sort((a, b) => a - b)).toEqual(expected.tl_demo_run.train_indices);
    expect(run.trainLosses).toHaveLength(20);
    expect(run.config.act).toBe('relu');
  });

  it('puts a test curve logged every k-th epoch on the epoch axis of the train curve', () => {
    const train = Array.from({ length: 101 }, (_, i) => i);
    const test = Array.from({ length: 11 }, (_, i) => 1000 + i);
    const [tr, te] = alignCurves(train, test);
    expect(tr).toBe(train);
    expect(te).toHaveLength(101);
    for (let e = 0; e <= 100; e++) expect(te![e]).toEqual(e % 10 === 0 ? 1000 + e / 10 : NaN);
    // Every 10th of 50,000 epochs: 5,000 values (the authors' low_precision run).
    const [, te2] = alignCurves(new Array<number>(50).fill(0), [7, 8, 9, 10, 11]);
    expect(te2!.map((x, e) => (Number.isNaN(x) ? null : [e, x])).filter(Boolean)).toEqual([[0, 7], [10, 8], [20, 9], [30, 10], [40, 11]]);
    // Curves of unrelated lengths are left alone.
    expect(alignCurves(train, [1, 2, 3, 4, 5, 6, 7])[1]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses a pickle that names os.system, with its name, and runs nothing', () => {
    expect(() => readTorchRun(read('evil_os_system.pth'))).toThrow(/posix\.system \(os\.system\).*nothing in the file was run/);
    expect(existsSync('/tmp/grokscope-pwned')).toBe(false);
  });

  it('refuses a legacy (pre-1.6) file with what to do, and a compressed archive with why', () => {
    expect(() => readTorchRun(read('legacy.pth'))).toThrow(/re-save it with torch ≥ 1\.6/);
    expect(() => readTorchRun(read('deflated.pth'))).toThrow(/compressed \(zip method 8\)/);
  });

  it('refuses truncated and garbage bytes with a message, never a crash', () => {
    const good = read('authors_final.pth');
    for (const cut of [10, 200, good.length - 30, good.length - 1]) expect(() => readTorchRun(good.slice(0, cut))).toThrow(/zip|truncated|pickle|archive/);
    const flipped = good.slice();
    for (let i = 100; i < 400; i++) flipped[i] ^= 0x5a;
    expect(() => readTorchFile(flipped).root).toThrow();
  });
});
