import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

function collect() {
  const events: WorkerEvent[] = [];
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
  return { events, of, post: (e: WorkerEvent) => events.push(e) };
}

describe('evidence in the training session', () => {
  beforeAll(() => useBackend('wasm'));

  it('answers requests for past epochs with an intervention, measures on the heavy cadence, and every snapshot when idle', async () => {
    const { of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 10 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 30, lr: 0.01 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    // The heavy pass of epoch 0 asked for a live evidence pass; the idle session measured every snapshot.
    const seriesEpochs = new Set(of('evidence').filter((e) => e.series).map((e) => e.result.epoch));
    for (const e of [0, 10, 20, 30]) expect(seriesEpochs.has(e), `epoch ${e}`).toBe(true);
    const before = numTensors();
    await session.handle({ type: 'evidence', request: { epoch: 10, ablations: [{ target: 'head', index: 1, mode: 'zero' }], pair: 8 } });
    await session.idle();
    expect(numTensors()).toBe(before);
    const answer = of('evidence').filter((e) => e.answer).at(-1)!.result;
    expect(answer.epoch).toBe(10);
    expect(answer.after).not.toBeNull();
    expect(answer.after!.trainLoss).not.toBe(answer.before.trainLoss);
    expect(answer.probe).toMatchObject({ a: 1, b: 1 });
    // A pair outside the grid is dropped rather than trusted.
    await session.handle({ type: 'evidence', request: { epoch: null, ablations: [], pair: 10_000 } });
    expect(of('evidence').at(-1)!.result.probe).toBeNull();
    expect(of('evidence').at(-1)!.result.epoch).toBe(30);
    session.dispose();
  });

  it('skips an evidence request the page replaced while it waited in the queue', async () => {
    const { of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 10 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 20, lr: 0.01 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const before = of('evidence').filter((e) => e.answer).length;
    void session.handle({ type: 'evidence', request: { epoch: 0, ablations: [], pair: null } });
    void session.handle({ type: 'evidence', request: { epoch: 10, ablations: [], pair: null } });
    await session.handle({ type: 'evidence', request: { epoch: 20, ablations: [], pair: 3 } });
    await session.idle();
    const answers = of('evidence').filter((e) => e.answer).slice(before);
    expect(answers.map((e) => e.result.probe !== null)).toEqual([true]);
    session.dispose();
  });

  it('a reset does not wait for the old run to re-measure every snapshot with a new K', async () => {
    const { events, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 2 });
    const config = tinyConfig({ epochs: 40, lr: 0.01 });
    await session.handle({ type: 'init', config, backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const from = events.length;
    void session.handle({ type: 'setKeyFreqs', keyFreqs: [2] });
    await session.handle({ type: 'reset', config });
    const after = events.slice(from);
    const ready = after.findIndex((e) => e.type === 'ready');
    expect(ready).toBeGreaterThanOrEqual(0);
    // 21 snapshots were due; at most the pass in flight (and one more) finished before the new run.
    expect(after.slice(0, ready).filter((e) => e.type === 'recomputed').length).toBeLessThanOrEqual(2);
    await session.idle();
    session.dispose();
  });

  it('re-measures the K-dependent curves of every snapshot before the evidence snapshots when K changes', async () => {
    const { events, of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 5 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 30, lr: 0.01 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const from = events.length;
    await session.handle({ type: 'setKeyFreqs', keyFreqs: [2] });
    // The page asks for the viewed checkpoint's evidence meanwhile (as after Play stops): answered at once.
    await session.handle({ type: 'evidence', request: { epoch: 10, ablations: [], pair: null } });
    await session.idle();
    const after = events.slice(from);
    const lastRecompute = after.map((e) => e.type).lastIndexOf('recomputed');
    const seriesAt = after.flatMap((e, i) => (e.type === 'evidence' && e.series && !e.answer ? [i] : []));
    expect(lastRecompute).toBeGreaterThan(0);
    expect(seriesAt.length).toBeGreaterThanOrEqual(of('snapshots').at(-1)!.epochs.length - 1);
    // Every background evidence pass with the new K came after the last re-measured snapshot.
    expect(Math.min(...seriesAt)).toBeGreaterThan(lastRecompute);
    expect(of('recomputed').at(-1)!.remaining).toBe(0);
    session.dispose();
  });
});
