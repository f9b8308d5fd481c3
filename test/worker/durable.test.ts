/**
 * The worker's part of issue 16: each checkpoint's state comes just before it (and is the state
 * at that epoch, though the next block already runs), a run to be opened is verified without
 * touching the one in hand, and a build superseded by a newer one skips its timing probes.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

function makeSession(durable: boolean) {
  const events: WorkerEvent[] = [];
  const session = new TrainingSession({
    createTrainer: (c, init) => new Trainer(c, init),
    post: (e) => events.push(e),
    backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
    checkpointEvery: 5,
    durableCheckpoints: durable,
  });
  return { session, events };
}

describe('durable checkpoints and verification', () => {
  beforeAll(() => useBackend('wasm'));

  it('sends every checkpoint’s state right before it, equal to the weights trained straight to that epoch', async () => {
    const { session, events } = makeSession(true);
    await session.handle({ type: 'init', config: tinyConfig({ lr: 0.01 }), backend: null });
    await session.handle({ type: 'step', epochs: 15 });
    await session.idle();
    const seq = events.filter((e) => e.type === 'checkpointState' || e.type === 'checkpoint');
    const states = seq.filter((e) => e.type === 'checkpointState');
    expect(states.map((e) => e.state.resume.t)).toEqual([5, 10, 15]);
    for (const st of states) {
      const next = seq[seq.indexOf(st) + 1];
      expect(next.type === 'checkpoint' && next.checkpoint.epoch).toBe(st.state.resume.t);
    }
    // The state at epoch 10, recomputed independently: a fresh trainer stepped 10 times.
    const straight = new Trainer(tinyConfig({ lr: 0.01 }));
    for (let i = 0; i < 10; i++) straight.trainStep();
    const at10 = await straight.readState();
    straight.dispose();
    const sent = states[1].state.resume;
    expect(Math.max(...Array.from(sent.weights, (w, i) => Math.abs(w - at10.weights[i])))).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(sent.v, (v, i) => Math.abs(v - at10.v[i])))).toBeLessThan(1e-9);
    session.dispose();
  });

  it('verifies a run without touching the one in hand: its own loss passes, an edited config fails', async () => {
    const { session, events } = makeSession(false);
    await session.handle({ type: 'init', config: tinyConfig({ lr: 0.01 }), backend: null });
    await session.handle({ type: 'step', epochs: 20 });
    await session.idle();
    const trainer = session.currentTrainer!;
    const state = await trainer.readState();
    const loss = (await trainer.evaluateAsync()).trainLoss;
    const before = numTensors();
    const recorded = { epoch: 20, trainLoss: loss, weights: state.weights, exact: true };
    await session.handle({ type: 'verify', requestId: 1, config: trainer.config, trainIndices: trainer.dataset.train, recorded });
    await session.handle({ type: 'verify', requestId: 2, config: { ...trainer.config, task: 'sub' }, trainIndices: trainer.dataset.train, recorded });
    const verdicts = events.filter((e) => e.type === 'verified');
    expect(verdicts.map((e) => e.type === 'verified' && e.problem)).toEqual([null, expect.stringMatching(/does not reproduce its own history.*task sub/)]);
    expect(numTensors()).toBe(before);
    expect(session.currentTrainer).toBe(trainer);
    expect(trainer.epoch).toBe(20);
    session.dispose();
  });

  it('a build already superseded by a newer one skips its measures (only the newest is measured)', async () => {
    const { session, events } = makeSession(false);
    const evaluations = vi.spyOn(Trainer.prototype, 'evaluate');
    await session.handle({ type: 'init', config: tinyConfig(), backend: null });
    // A build evaluates three times: the first checkpoint, then a timed checkpoint and a timed heavy pass.
    expect(evaluations).toHaveBeenCalledTimes(3);
    const first = session.handle({ type: 'reset', config: tinyConfig({ seed: 1 }) });
    const second = session.handle({ type: 'reset', config: tinyConfig({ seed: 2 }) });
    await Promise.all([first, second]);
    // The seed-1 build was superseded before it started measuring: it evaluates nothing.
    expect(evaluations).toHaveBeenCalledTimes(3 + 0 + 3);
    evaluations.mockRestore();
    expect(events.filter((e) => e.type === 'ready')).toHaveLength(3);
    expect(session.currentTrainer!.config.seed).toBe(2);
    session.dispose();
  });
});
