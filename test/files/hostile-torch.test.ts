/**
 * Issue 24, items 1, 2 and 6: PyTorch files that tiny on disk would expand to gigabytes are refused
 * before anything large is allocated (the unpickler's budgets, a tensor's shape checked against its
 * strides and storage), a file's epoch of 5e7 costs nothing, and an imported split is stored as its
 * indices: a run read from a file reopens, whatever its count of pairs.
 */
import { describe, expect, it } from 'vitest';
import { checkpointFixture } from '../helpers.ts';
import { decodeRun, encodeRun } from '../../src/files/run-file.ts';
import { readPickle, storageFromPid } from '../../src/files/torch/pickle.ts';
import { readTorchFile } from '../../src/files/torch/torch-file.ts';
import { readTorchRun } from '../../src/files/torch/import.ts';
import { torchRunData } from '../../src/files/torch-run.ts';
import { OP, PickleWriter, someIndices, tlDemoRun, tlModelFile, torchArchive } from './torch-forge.ts';

const SMALL = { p: 23, dModel: 8, nHeads: 2, dMlp: 16 };

/** What the page does with an imported run before saving it: the worker measures its last snapshot. */
function asSaved(bytes: Uint8Array) {
  const data = torchRunData(readTorchRun(bytes, 'run.pth'), 'run.pth');
  const last = data.snapshots.at(-1)!.epoch;
  const measured = checkpointFixture(last, { trainLoss: 0.5, testLoss: 4 });
  return { ...data, history: [...data.history.filter((c) => c.epoch < last), measured] };
}

/** A flood of one opcode inside a list, ending in STOP. */
function flood(code: number, count: number, prefix: (w: PickleWriter) => void = (w) => w.op(OP.EMPTY_LIST)): Uint8Array {
  const w = new PickleWriter().proto();
  prefix(w);
  w.repeat(code, count);
  return torchArchive(w.stop());
}

const refusal = (bytes: Uint8Array) => {
  try {
    readTorchRun(bytes, 'hostile.pth');
    return 'accepted';
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
};

describe('an imported split is its indices (item 1)', () => {
  it('a TransformerLens run whose split is 162 pairs of P = 23 reopens with exactly those pairs', () => {
    // floor(0.3 · 529) = 158, and 162/529 is no fraction whose floor gives back 162 either way:
    // the split must be stored as indices, never re-derived.
    const indices = someIndices(23, 162);
    const run = asSaved(tlDemoRun({ ...SMALL, trainIndices: indices, checkpointEpochs: [0, 10, 20], epochs: 30 }));
    expect(run.trainIndices.length).toBe(162);
    const back = decodeRun(encodeRun(run));
    expect(Array.from(back.trainIndices)).toEqual(indices);
    expect(back.snapshots.map((s) => s.epoch)).toEqual([0, 10, 20, 30]);
  });

  it('and so does the notebook split of 3,830 pairs at P = 113, whose floor(frac·P²) is 3,829', () => {
    const indices = someIndices(113, 3830);
    expect(Math.floor((3830 / 113 ** 2) * 113 * 113)).toBe(3829);
    const run = asSaved(tlDemoRun({ p: 113, dModel: 8, nHeads: 2, dMlp: 8, trainIndices: indices, checkpointEpochs: [0], epochs: 5 }));
    expect(Array.from(decodeRun(encodeRun(run)).trainIndices)).toEqual(indices);
  });

  it('a fraction that does not describe the indices is still refused, naming both', () => {
    const run = asSaved(tlDemoRun({ ...SMALL, trainIndices: someIndices(23, 162), checkpointEpochs: [0], epochs: 5 }));
    expect(() => decodeRun(encodeRun({ ...run, config: { ...run.config, frac: 0.5 } }))).toThrow(/training fraction 0.5 means 264 training pairs, but train_indices holds 162/);
  });
});

describe('a file past the page epoch limit (item 2)', () => {
  it('opens as a finished run at epoch 2,000,000 and reopens after a save', () => {
    const run = asSaved(tlDemoRun({ ...SMALL, trainIndices: someIndices(23, 150), checkpointEpochs: [0, 2_000_000], epochs: 10 }));
    expect(run.config.epochs).toBe(1_000_000);
    const back = decodeRun(encodeRun(run));
    expect(back.snapshots.at(-1)!.epoch).toBe(2_000_000);
  });
});

describe('hostile PyTorch files are refused before they expand (item 6)', () => {
  it('a stride-0 expand(16384, 16384) of one float, before any allocation', () => {
    const w = new PickleWriter().proto();
    w.tensor({ type: 'FloatStorage', key: '0', numel: 1, shape: [16384, 16384], stride: [0, 0] });
    const file = readTorchFile(torchArchive(w.stop(), { '0': new Uint8Array(4) }));
    expect(() => file.tensor(file.root as never)).toThrow(/shape \[16384, 16384\] has 268,435,456 elements but its storage holds 1: a broadcast \(stride 0, 0\) view.*not expanded/);
    // In a state dict, the whole file is refused with it (43 KB on disk would have been 1 GiB read).
    const bomb = tlModelFile(SMALL, [], { storages: { big: new Uint8Array(4) }, replace: { 'embed.W_E': (x) => x.tensor({ type: 'FloatStorage', key: 'big', numel: 1, shape: [16384, 16384], stride: [0, 0] }) } });
    expect(refusal(bomb)).toMatch(/268,435,456 elements but its storage holds 1/);
  });

  it('stride-0 loss curves, and curves longer than any run', () => {
    const curve = (n: number) => {
      const w = new PickleWriter().proto();
      w.dict([['train_losses', () => w.tensor({ type: 'FloatStorage', key: '0', numel: 1, shape: [n], stride: [0] })]]);
      return torchArchive(w.stop(), { '0': new Uint8Array(4) });
    };
    expect(refusal(curve(5_000_000))).toMatch(/5,000,000 elements but its storage holds 1/);
    expect(refusal(curve(60_000_000))).toMatch(/train_losses holds 60,000,000 values, more than the 10,000,000 any run logs/);
  });

  it('an epoch of 5e7 is read as one point, not an array of 5e7 entries', () => {
    // {model: a state dict, epoch: 5e7, train_loss, test_loss}, as an authors' checkpoint holds them.
    const file = tlModelFile(SMALL, [['epoch', (w) => w.int(50_000_000)], ['train_loss', (w) => w.float(0.25)], ['test_loss', (w) => w.float(0.5)]]);
    expect(file.length).toBeLessThan(20_000);
    const run = readTorchRun(file, 'epoch_5e7.pth');
    expect(run.trainLosses).toBeNull();
    expect(run.lossPoints).toEqual([{ epoch: 50_000_000, train: 0.25, test: 0.5 }]);
    const data = torchRunData(run, 'epoch_5e7.pth');
    expect(data.config.epochs).toBe(1_000_000);
    expect(data.history.map((c) => [c.epoch, c.trainLoss])).toEqual([[50_000_000, 0.25]]);
  });

  it('floods of EMPTY_DICT, EMPTY_LIST and DUP stop at the budget, with what they are', () => {
    // Kept (appended to one list, so the stack stays flat) or left on the stack, both are bounded.
    const kept = (code: number, n: number) => {
      const w = new PickleWriter().proto().op(OP.EMPTY_LIST);
      for (let i = 0; i < n; i++) w.op(code).op(0x61); // APPEND
      return torchArchive(w.stop());
    };
    expect(refusal(kept(OP.EMPTY_DICT, 2_100_000))).toMatch(/the pickle builds more than 2,000,000 objects.*not read further/);
    expect(refusal(kept(OP.EMPTY_LIST, 2_100_000))).toMatch(/more than 2,000,000 objects/);
    expect(refusal(flood(OP.EMPTY_DICT, 1_100_000))).toMatch(/more than 1,000,000 values on its stack/);
    expect(refusal(flood(OP.DUP, 1_100_000))).toMatch(/more than 1,000,000 values on its stack/);
  });

  it('the memo and the elements of containers have budgets of their own', () => {
    const memo = new PickleWriter().proto().op(OP.EMPTY_LIST);
    for (let i = 0; i < 40; i++) memo.op(0x72).raw([i, 0, 0, 0]); // LONG_BINPUT i
    expect(() => readPickle(memo.stop(), storageFromPid, { objects: 100, elements: 100, stack: 100, memo: 30 })).toThrow(/more than 30 memo entries/);
    const many = new PickleWriter().proto().ints(Array.from({ length: 500 }, (_, i) => i)).stop();
    expect(() => readPickle(many, storageFromPid, { objects: 100, elements: 400, stack: 1000, memo: 30 })).toThrow(/more than 400 list, dict and tuple elements/);
    expect(readPickle(many, storageFromPid, { objects: 100, elements: 500, stack: 1000, memo: 30 })).toHaveLength(500);
  });

  it('a tensor named many times is copied once; many tensors over one storage stop at the budget', () => {
    const w = new PickleWriter().proto();
    // One tensor object put in the memo, then fetched 100 times (BINGET 0).
    w.op(OP.EMPTY_LIST).mark().tensor({ type: 'FloatStorage', key: '0', numel: 1024, shape: [1024] }).op(0x71).raw([0]);
    for (let i = 0; i < 100; i++) w.op(0x68).raw([0]);
    w.op(OP.APPENDS);
    const shared = torchArchive(w.stop(), { '0': new Uint8Array(4096) });
    const file = readTorchFile(shared, { maxTensorBytes: 8192 });
    const list = file.root as unknown[];
    expect(list).toHaveLength(101);
    for (const t of list) expect(file.tensor(t as never).bytes.length).toBe(4096);
    // 100 distinct views of the same storage each cost their size.
    const v = new PickleWriter().proto().op(OP.EMPTY_LIST).mark();
    for (let i = 0; i < 100; i++) v.tensor({ type: 'FloatStorage', key: '0', numel: 1024, shape: [1024] });
    v.op(OP.APPENDS);
    const views = readTorchFile(torchArchive(v.stop(), { '0': new Uint8Array(4096) }), { maxTensorBytes: 8192 });
    const items = views.root as unknown[];
    views.tensor(items[0] as never);
    views.tensor(items[1] as never);
    expect(() => views.tensor(items[2] as never)).toThrow(/tensors take more than 0 MB once read/);
  });

  it('names from the file are cut in messages (a 5 MB key, a 3 MB global)', () => {
    const w = new PickleWriter().proto();
    w.dict([['k'.repeat(5_000_000), () => w.int(1)]]);
    const message = refusal(torchArchive(w.stop()));
    expect(message).toMatch(/no model weights.*kkk… \(5,000,000 characters\)/);
    expect(message.length).toBeLessThan(400);
    const g = new PickleWriter().proto().global('os', 'x'.repeat(3_000_000)).stop();
    const refused = refusal(torchArchive(g));
    expect(refused).toMatch(/names the global os\.xxx.*… \(3,000,003 characters\)/);
    expect(refused.length).toBeLessThan(400);
  });
});
