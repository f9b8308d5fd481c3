/**
 * The authors' saved runs of the appendix tasks (App. D.3) open: files forged here with the
 * structure of saved_runs/ (checked against the real files: the authors' orientations, a causal
 * mask buffer, `attn_blocks.N` for the induction-head model, loss lists alone for the others).
 * The weights are our own seeded initial weights written in the authors' layout, so reading them
 * back must give exactly ours, and `analyze` must measure what our trainer measures.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyze.ts';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { parseArgs } from '../../src/cli/node/args.ts';
import { readImportFile } from '../../src/files/import-file.ts';
import { readFloats } from '../../src/files/safetensors/safetensors.ts';
import { readSequenceTorch } from '../../src/files/torch/sequence-import.ts';
import { SequenceTrainer, defaultSequenceConfig } from '../../src/model/sequence/trainer.ts';
import type { SequenceTaskName } from '../../src/task/sequence.ts';
import { OP, PickleWriter, authorsSequenceFile, torchArchive } from '../files/torch-forge.ts';
import { useBackend } from '../helpers.ts';

beforeAll(() => useBackend('wasm'));
const dir = mkdtempSync(join(tmpdir(), 'grokscope-sequence-files-'));

const asArrays = (t: SequenceTrainer) => new Map([...t.params].map(([k, v]) => [k, { values: v.dataSync() as Float32Array, shape: v.shape }]));
const authorsFile = (t: SequenceTrainer, opts: Parameters<typeof authorsSequenceFile>[2] = {}) => authorsSequenceFile(asArrays(t), t.model.nCtx, opts);

function trainerOf(task: SequenceTaskName, seed: number): SequenceTrainer {
  return new SequenceTrainer({ ...defaultSequenceConfig(task), seed, testSize: task === 'repeat' ? 24 : 200 });
}

const analyze = async (path: string, ...flags: string[]) => (await analyzeCommand(parseArgs(['analyze', path, ...flags], new Set()))) as Record<string, unknown>;
const inspect = (path: string) => inspectCommand(parseArgs(['inspect', path], new Set()));
const save = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

describe("the authors' appendix-task files (App. D.3)", () => {
  it('a 5-digit-addition model in their layout reads back as exactly our weights, and analyze measures what our trainer measures', async () => {
    const trainer = trainerOf('digits5', 4);
    try {
      const bytes = authorsFile(trainer);
      const read = readSequenceTorch(bytes, 'some_model.pth')!;
      // Found by its shapes (18 positions, 12 tokens in, 10 out), not by its name.
      expect(read.task).toBe('digits5');
      expect(read.trainLosses).toEqual([2.4, 1.1, 0.3]);
      expect([...read.weights!.keys()].sort()).toEqual([...trainer.params.keys()].sort());
      for (const [name, p] of trainer.params) expect(Array.from(readFloats(read.weights!.get(name)!)), name).toEqual(Array.from(p.dataSync()));
      // The page's reader says what it is.
      const f = await readImportFile(bytes, { name: 'some_model.pth' });
      expect(f.kind).toBe('sequence');
      // analyze draws the problems train --task digits5 --seed 4 tests on: the same loss as the trainer's.
      const ours = trainer.measure();
      const before = tf.memory().numTensors;
      const out = await analyze(save('digits5.pth', bytes), '--seed', '4', '--test-size', '200');
      expect(tf.memory().numTensors).toBe(before);
      expect(out.task).toBe('digits5');
      expect(out.testSet).toMatchObject({ problems: 200, seed: 4, predictionsCounted: 1200 });
      expect(out.testLoss as number).toBeCloseTo(ours.testLoss, 5);
      expect(out.testAcc as number).toBeCloseTo(ours.testAcc, 6);
      expect((out.perTokenLoss as number[]).length).toBe(6);
      (out.perTokenLoss as number[]).forEach((x, i) => expect(x).toBeCloseTo(ours.perTokenLoss![i], 5));
      expect(out.fileTrainLoss).toBe(0.3);
      // Another seed draws other problems.
      const other = await analyze(join(dir, 'digits5.pth'), '--seed', '5', '--test-size', '200');
      expect(other.testLoss).not.toBe(out.testLoss);
    } finally {
      trainer.dispose();
    }
  });

  it("the induction-head model (attn_blocks.N, data_config) reads as repeat, with its stated data and our induction scores", async () => {
    const trainer = trainerOf('repeat', 2);
    try {
      const dataConfig = (w: PickleWriter) => w.dict([['seq_len', () => w.int(85)], ['batch_size', () => w.int(128)], ['is_finite', () => w.op(OP.NEWFALSE)], ['num_batches', () => w.int(4)]]);
      const bytes = authorsFile(trainer, { blocks: 'attn_blocks', extra: [['data_config', dataConfig]] });
      const read = readSequenceTorch(bytes, 'induction_head_finite.pth')!;
      expect(read.task).toBe('repeat');
      // is_finite False: fresh data, whatever the name says.
      expect(read.data).toBe(Infinity);
      expect(read.configs.data_config).toMatchObject({ seq_len: 85, num_batches: 4, is_finite: false });
      const ours = trainer.measure();
      const out = await analyze(save('induction_head_finite.pth', bytes), '--seed', '2', '--test-size', '24');
      expect(out.testLoss as number).toBeCloseTo(ours.testLoss, 5);
      (out.inductionScore as number[][]).flat().forEach((x, i) => expect(x).toBeCloseTo(ours.inductionScore!.flat()[i], 5));
      const lines = (await inspect(join(dir, 'induction_head_finite.pth'))).lines.join('\n');
      expect(lines).toMatch(/task: repeat/);
      expect(lines).toMatch(/2 layers, d_model 48, 4 heads of 12, attention only/);
      expect(lines).toMatch(/data_config: seq_len=85, batch_size=128, is_finite=false, num_batches=4/);
    } finally {
      trainer.dispose();
    }
  });

  it('loss lists open as curves, named by the file; analyze says there is no model; a wrong shape is named', async () => {
    const list = () => {
      const w = new PickleWriter().proto();
      w.floats([2.37, 1.0, 0.5, 2e-8]);
      return torchArchive(w.stop());
    };
    const skip = await inspect(save('skip_trigram_infinite.pth', list()));
    expect(skip.code).toBe(0);
    expect(skip.lines.join('\n')).toMatch(/task: skip3[\s\S]*fresh examples every step[\s\S]*train loss: 4 steps, from 2.37 to 2e-8 \(least 2e-8\)/);
    await expect(analyze(join(dir, 'skip_trigram_infinite.pth'))).rejects.toThrow(/loss curves only.*no model to measure/);
    // The same list under a name that says no task stays refused as before.
    const unnamed = await inspect(save('losses.pth', list()));
    expect(unnamed.code).toBe(2);
    expect(unnamed.lines[0]).toMatch(/holds a list at the top, not a model/);
    // {train_losses, test_losses} of a finite run: the paper's data size from the name.
    const w = new PickleWriter().proto();
    w.dict([['train_losses', () => w.floats([2, 1e-3])], ['test_losses', () => w.floats([2, 0.2])]]);
    const finite = await inspect(save('5_digit_addition_finite.pth', torchArchive(w.stop())));
    expect(finite.lines.join('\n')).toMatch(/data: 700 training examples[\s\S]*test loss: 2 steps, from 2 to 0.2/);
    // A digits5 model whose MLP is not the paper's width.
    const trainer = trainerOf('digits5', 1);
    try {
      const bad = await inspect(save('bad.pth', authorsFile(trainer, { replace: { 'blocks.0.mlp.W_in': [256, 128] } })));
      expect(bad.code).toBe(2);
      expect(bad.lines[0]).toMatch(/blocks\.0\.mlp\.W_in of bad\.pth is \[128, 256\]; the paper's 5-digit addition model has \[128, 512\]/);
    } finally {
      trainer.dispose();
    }
  });
});
