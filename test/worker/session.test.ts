import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/config/schema.ts';
import { Trainer } from '../../src/model/trainer.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

function makeSession(opts: { every?: number; createTrainer?: (c: TrainConfig) => Trainer } = {}) {
  const events: WorkerEvent[] = [];
  const session = new TrainingSession({
    createTrainer: opts.createTrainer ?? ((c, init) => new Trainer(c, init)),
    post: (e) => events.push(e),
    backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
    checkpointEvery: opts.every,
  });
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
  const checkpoints = (): Checkpoint[] => of('checkpoint').map((e) => e.checkpoint);
  const statuses = () => of('status').map((e) => e.status);
  return { session, events, of, checkpoints, statuses };
}

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('TrainingSession', () => {
  beforeAll(() => useBackend('wasm'));

  it('builds a run: ready, the epoch-0 checkpoint, then idle', async () => {
    const { session, of, checkpoints, statuses } = makeSession();
    await session.handle({ type: 'init', config: tinyConfig(), backend: null });
    expect(of('ready')).toHaveLength(1);
    expect(of('ready')[0]).toMatchObject({ nTrain: 24, nTest: 25, numParams: expect.any(Number) });
    expect(checkpoints().map((c) => c.epoch)).toEqual([0]);
    expect(statuses()).toEqual(['starting', 'idle']);
    session.dispose();
  });

  it('trains to the epoch limit with checkpoints on a fixed cadence, then says done', async () => {
    const { session, checkpoints, statuses, of } = makeSession({ every: 10 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 50 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    expect(checkpoints().map((c) => c.epoch)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(statuses().at(-1)).toBe('done');
    expect(of('progress').at(-1)!.epoch).toBe(50);
    expect(session.currentTrainer!.epoch).toBe(50);
    session.dispose();
  });

  it('steps exactly N epochs, then pauses with a checkpoint at the end', async () => {
    const { session, checkpoints, statuses } = makeSession({ every: 100 });
    await session.handle({ type: 'init', config: tinyConfig(), backend: null });
    await session.handle({ type: 'step', epochs: 7 });
    await session.idle();
    expect(session.currentTrainer!.epoch).toBe(7);
    expect(checkpoints().map((c) => c.epoch)).toEqual([0, 7]);
    expect(statuses().at(-1)).toBe('paused');
    await session.handle({ type: 'step', epochs: 3 });
    await session.idle();
    expect(session.currentTrainer!.epoch).toBe(10);
    session.dispose();
  });

  it('pauses and resumes without losing an epoch', async () => {
    const { session, statuses, of } = makeSession();
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 100_000 }), backend: null });
    await session.handle({ type: 'start' });
    await until(() => of('progress').length >= 3);
    await session.handle({ type: 'pause' });
    await session.idle();
    expect(statuses().at(-1)).toBe('paused');
    const at = session.currentTrainer!.epoch;
    expect(at).toBeGreaterThan(0);
    expect(of('progress').at(-1)!.epoch).toBe(at);
    await new Promise((r) => setTimeout(r, 50));
    expect(session.currentTrainer!.epoch).toBe(at);
    await session.handle({ type: 'resume' });
    await until(() => session.currentTrainer!.epoch > at + 5);
    await session.handle({ type: 'pause' });
    await session.idle();
    session.dispose();
  });

  it('applies a weight-decay change while running from the next update on', async () => {
    const { session, checkpoints, of } = makeSession({ every: 5 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 100_000, weightDecay: 1 }), backend: null });
    await session.handle({ type: 'start' });
    await until(() => checkpoints().length >= 3);
    await session.handle({ type: 'set', settings: { weightDecay: 0.05, lr: 2e-3 } });
    const changedAt = session.currentTrainer!.epoch;
    await until(() => checkpoints().some((c) => c.epoch > changedAt + 5));
    await session.handle({ type: 'pause' });
    await session.idle();
    const after = checkpoints().filter((c) => c.epoch > changedAt);
    expect(after.length).toBeGreaterThan(0);
    for (const c of after) expect(c).toMatchObject({ weightDecay: 0.05, lr: 2e-3 });
    expect(checkpoints()[1]).toMatchObject({ weightDecay: 1, lr: 1e-3 });
    expect(of('error')).toEqual([]);
    session.dispose();
  });

  it('adapts the checkpoint interval so evaluation stays cheap', async () => {
    const { session, of } = makeSession();
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 100_000 }), backend: null });
    await session.handle({ type: 'start' });
    await until(() => of('progress').length >= 12);
    await session.handle({ type: 'pause' });
    await session.idle();
    const every = of('progress').at(-1)!.checkpointEvery;
    // A tiny model trains thousands of epochs a second: checkpoints must be spaced out.
    expect(every).toBeGreaterThan(1);
    const epochs = of('checkpoint').map((e) => e.checkpoint.epoch);
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]);
    session.dispose();
  });

  it('resets to a new run with a new id, and frees the old one', async () => {
    const { session, of } = makeSession({ every: 10 });
    await session.handle({ type: 'init', config: tinyConfig(), backend: null });
    const before = numTensors();
    await session.handle({ type: 'step', epochs: 10 });
    await session.idle();
    await session.handle({ type: 'reset', config: tinyConfig({ seed: 4 }) });
    expect(of('ready').map((e) => e.runId)).toEqual([1, 2]);
    expect(session.currentTrainer!.epoch).toBe(0);
    expect(numTensors()).toBe(before);
    session.dispose();
  });

  it('pauses with a message when the loss becomes NaN', async () => {
    const c = tinyConfig();
    const { session, of, statuses } = makeSession({
      createTrainer: (config) => {
        const t = new Trainer(config);
        const poisoned = Object.fromEntries(paramSpecsOf(t).map((name) => [name, new Float32Array(t.paramTensors[name].size).fill(NaN)]));
        t.dispose();
        return new Trainer(config, { weights: poisoned });
      },
    });
    await session.handle({ type: 'init', config: c, backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    expect(of('error')[0].message).toMatch(/loss became NaN at epoch 1 and there is no earlier good state/);
    expect(of('error')[0].fault).toBe('nan');
    expect(statuses().at(-1)).toBe('paused');
    session.dispose();
  });

  it('rolls back to the last good checkpoint when training diverges, and can go on', async () => {
    const { session, of, statuses, checkpoints } = makeSession({ every: 10 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 1000 }), backend: null });
    await session.handle({ type: 'step', epochs: 20 });
    await session.idle();
    const good = checkpoints().at(-1)!;
    expect(good.epoch).toBe(20);
    await session.handle({ type: 'debug', action: 'poison' });
    await session.handle({ type: 'start' });
    await session.idle();
    const err = of('error').at(-1)!;
    expect(err.fault).toBe('nan');
    expect(err.message).toMatch(/the run is back at epoch 20, its last good checkpoint/);
    expect(statuses().at(-1)).toBe('paused');
    expect(session.currentTrainer!.epoch).toBe(20);
    // The checkpoint after the rollback shows the restored weights: the same metrics as before.
    const restored = checkpoints().at(-1)!;
    expect(restored.epoch).toBe(20);
    expect(restored.trainLoss).toBeCloseTo(good.trainLoss, 6);
    await session.handle({ type: 'step', epochs: 10 });
    await session.idle();
    expect(checkpoints().at(-1)).toMatchObject({ epoch: 30 });
    expect(Number.isFinite(checkpoints().at(-1)!.trainLoss)).toBe(true);
    session.dispose();
  });

  it('exports its state and continues exactly from it after a load', async () => {
    const a = makeSession({ every: 10 });
    await a.session.handle({ type: 'init', config: tinyConfig({ epochs: 1000 }), backend: null });
    await a.session.handle({ type: 'step', epochs: 20 });
    await a.session.idle();
    await a.session.handle({ type: 'exportState', requestId: 7, snapshotsAfter: -1 });
    const { state } = a.of('state')[0];
    expect(state.epoch).toBe(20);
    expect(state.snapshots.map((x) => x.epoch)).toEqual([0, 10, 20]);
    await a.session.handle({ type: 'step', epochs: 10 });
    await a.session.idle();
    const continued = a.checkpoints().at(-1)!;
    const b = makeSession({ every: 10 });
    await b.session.handle({
      type: 'init',
      config: state.config,
      backend: null,
      run: { config: state.config, trainIndices: state.trainIndices, keyFreqs: state.keyFreqs, snapshots: state.snapshots, resume: state.resume },
    });
    expect(b.of('ready')[0].loadedAt).toBe(20);
    await b.session.handle({ type: 'step', epochs: 10 });
    await b.session.idle();
    const resumed = b.checkpoints().at(-1)!;
    expect(resumed.epoch).toBe(30);
    // Same weights and Adam moments: the same curve.
    expect(resumed.trainLoss).toBe(continued.trainLoss);
    expect(resumed.testLoss).toBe(continued.testLoss);
    a.session.dispose();
    b.session.dispose();
  });

  it('reports a trainer that cannot be built as a fatal error', async () => {
    const { session, of, statuses } = makeSession({
      createTrainer: () => {
        throw new Error('out of memory (test)');
      },
    });
    await session.handle({ type: 'init', config: tinyConfig(), backend: null });
    const error = of('error')[0] as { message: string; fatal: boolean; fault?: string };
    // The cause is kept, said in words, and tagged so the UI can offer a smaller model.
    expect(error).toMatchObject({ fatal: true, fault: 'out-of-memory' });
    expect(error.message).toContain('out of memory (test)');
    expect(error.message).toMatch(/smaller P or model/);
    expect(statuses().at(-1)).toBe('error');
  });
});

function paramSpecsOf(t: Trainer): string[] {
  return Object.keys(t.paramTensors);
}

describe('memory limits', () => {
  it('refuses a configuration that cannot fit, naming the limit, before building anything', async () => {
    const { CPU_LIMITS } = await import('../../src/model/memory.ts');
    const events: WorkerEvent[] = [];
    let built = 0;
    const session = new TrainingSession({
      createTrainer: (c) => {
        built++;
        return new Trainer(c);
      },
      post: (e) => events.push(e),
      backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
      limits: () => CPU_LIMITS.wasm,
    });
    await session.handle({ type: 'init', config: { ...tinyConfig(), p: 257, dModel: 128, dMlp: 4096 }, backend: null });
    const err = events.find((e) => e.type === 'error') as Extract<WorkerEvent, { type: 'error' }>;
    expect(err.fault).toBe('out-of-memory');
    expect(err.fatal).toBe(true);
    expect(err.message).toMatch(/P = 257 with d_mlp = 4096 needs 1,032 MB for the MLP activations of all 66,049 pairs.*WebAssembly allows at most 1,024 MB per tensor/);
    expect(built).toBe(0);
  });
});
