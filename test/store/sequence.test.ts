import { beforeEach, describe, expect, it } from 'vitest';
import { recordCheckpoints } from '../../src/client/sequence.ts';
import { useSequenceStore } from '../../src/store/sequence.ts';

const cp = (epoch: number, testLoss = 1) => ({ epoch, trainLoss: 2, testLoss, testAcc: 0.5 });
const record = { task: 'digits5' as const, name: 'f.pth', description: 'd', measured: null, hasModel: true };

describe("the appendix-tasks room's store", () => {
  beforeEach(() => useSequenceStore.setState({ record: null, trained: null, status: 'idle', checkpoints: [], message: null }));

  it('a run streams its checkpoints; a saved run on show ignores a stopped run that still reports', () => {
    const s = () => useSequenceStore.getState();
    s().begin();
    s().receive({ type: 'started', backend: 'wasm' });
    s().receive({ type: 'checkpoint', checkpoint: cp(0), seconds: 0 });
    expect(s().status).toBe('running');
    expect(s().checkpoints.map((c) => c.epoch)).toEqual([0]);
    s().showRecord(record, [cp(0, 3), cp(10, 0.5)]);
    s().receive({ type: 'checkpoint', checkpoint: cp(25), seconds: 1 });
    s().receive({ type: 'done', stopped: true, seconds: 1 });
    expect(s().status).toBe('recorded');
    expect(s().checkpoints.map((c) => c.epoch)).toEqual([0, 10]);
    // The model's measures join the last row; the file's own test loss stays, the measured one is the record's.
    s().receive({ type: 'measured', checkpoint: { epoch: 10, trainLoss: NaN, testLoss: 0.2, testAcc: 0.9, perTokenLoss: [1, 2, 3, 4, 5, 6] }, problems: 1000, seed: 0 });
    expect(s().checkpoints[1]).toMatchObject({ epoch: 10, trainLoss: 2, testLoss: 0.5, testAcc: 0.9, perTokenLoss: [1, 2, 3, 4, 5, 6] });
    expect(s().record!.measured).toMatchObject({ problems: 1000, seed: 0, checkpoint: { testLoss: 0.2 } });
    // Train replaces the record.
    s().begin();
    expect(s().record).toBeNull();
    s().receive({ type: 'measured', checkpoint: cp(10), problems: 1000, seed: 0 });
    expect(s().checkpoints).toEqual([]);
  });

  it("a saved run's curves go on one epoch axis, thinned", () => {
    // repeat: 4 updates an epoch in the train curve, one test loss an epoch: each epoch's last update.
    expect(recordCheckpoints([9, 9, 9, 5, 9, 9, 9, 4], [6, 3]).map((c) => [c.epoch, c.trainLoss, c.testLoss])).toEqual([[0, 5, 6], [1, 4, 3]]);
    // Fresh data: one curve, train and test alike.
    expect(recordCheckpoints([3, 2], null).map((c) => [c.trainLoss, c.testLoss])).toEqual([[3, 3], [2, 2]]);
    const long = recordCheckpoints(Array.from({ length: 10_001 }, (_, i) => i), null);
    expect(long.length).toBeLessThanOrEqual(2001);
    expect(long.at(-1)!.epoch).toBe(10_000);
  });
});
