/**
 * A run moves to the backend timed fastest at its next checkpoint (issue #25): Train works before
 * the timing ends. The weights and Adam moments go over as values, so the run continues as one
 * that never moved (cpu → cpu, through the same read and restore) and as one started on the
 * new backend from that state (cpu → wasm), within 1e-5; the page's events stay continuous.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendInfo, BackendName } from '../../src/config/backends.ts';
import { Trainer, type TrainerState } from '../../src/model/trainer.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { maxAbsDiff, numTensors, tinyConfig, useBackend } from '../helpers.ts';

const info = (name: BackendName): BackendInfo => ({ name, adapter: 'test', requested: null, skipped: [] });
const config = tinyConfig({ epochs: 30, lr: 3e-3, weightDecay: 1 });

/** A session on `from` told to move to `to` (`adapter`) after a few epochs, or before it trains. */
async function movedRun(from: 'cpu' | 'wasm', to: 'cpu' | 'wasm', opts: { adapter?: string; whileTraining: boolean }) {
  await useBackend(from);
  const tensorsBefore = numTensors();
  let active = info(from);
  const events: WorkerEvent[] = [];
  const session = new TrainingSession({
    createTrainer: (c, init) => new Trainer(c, init),
    post: (e) => events.push(e),
    backendInfo: () => active,
    checkpointEvery: 5,
    switchBackend: async (next) => {
      await useBackend(next.name as 'cpu' | 'wasm');
      active = next;
    },
  });
  await session.handle({ type: 'init', config, backend: null });
  const first = session.currentTrainer;
  const target = { ...info(to), adapter: opts.adapter ?? 'test', chosenBy: 'measurement' as const };
  if (opts.whileTraining) {
    await session.handle({ type: 'start' });
    // Asked for while it trains: it moves at the next checkpoint.
    while (session.currentTrainer!.epoch < 3) await new Promise((r) => setTimeout(r, 1));
    await session.handle({ type: 'moveBackend', backend: target });
  } else {
    await session.handle({ type: 'moveBackend', backend: target });
    await session.handle({ type: 'start' });
  }
  await session.idle();
  const rebuilt = session.currentTrainer !== first;
  const state = await session.currentTrainer!.readState();
  // What the moved-from trainer and analysis held is freed: after dispose, nothing is left.
  const leaked = () => {
    session.dispose();
    return numTensors() - tensorsBefore;
  };
  return { session, events, state, rebuilt, leaked };
}

/** The same configuration trained on `name` alone, from scratch or from a state. */
async function straightRun(name: 'cpu' | 'wasm', from?: TrainerState): Promise<TrainerState> {
  await useBackend(name);
  const t = new Trainer(config);
  if (from) t.loadState(from);
  while (t.epoch < config.epochs) t.trainStep();
  const state = await t.readState();
  t.dispose();
  return state;
}

function expectClose(a: TrainerState, b: TrainerState, tol: number) {
  expect(a.t).toBe(b.t);
  expect(maxAbsDiff(a.weights, b.weights)).toBeLessThan(tol);
  expect(maxAbsDiff(a.m, b.m)).toBeLessThan(tol);
  expect(maxAbsDiff(a.v, b.v)).toBeLessThan(tol);
}

describe('moving a run to another backend', () => {
  afterAll(() => useBackend('wasm'));

  it('cpu → cpu on another adapter, before training: rebuilt through the same read and restore, it continues exactly as a run that never moved', async () => {
    const { events, state, rebuilt, leaked } = await movedRun('cpu', 'cpu', { adapter: 'another device', whileTraining: false });
    expect(rebuilt).toBe(true);
    expect(events.filter((e) => e.type === 'backend')).toHaveLength(1);
    expectClose(state, await straightRun('cpu'), 1e-5);
    expect(leaked()).toBe(0);
  });

  it('cpu → cpu on the same adapter: nothing is rebuilt, the choice is only confirmed', async () => {
    const { session, events, rebuilt } = await movedRun('cpu', 'cpu', { whileTraining: true });
    expect(rebuilt).toBe(false);
    expect(events.filter((e) => e.type === 'backend')).toHaveLength(1);
    session.dispose();
  });

  it('cpu → wasm: the weights and Adam moments go over, and it continues as a run started there', async () => {
    const { session, events, state, rebuilt, leaked } = await movedRun('cpu', 'wasm', { whileTraining: true });
    expect(rebuilt).toBe(true);
    const moved = events.find((e): e is Extract<WorkerEvent, { type: 'backend' }> => e.type === 'backend')!;
    expect(moved.backend.name).toBe('wasm');
    // It moved at a checkpoint (a multiple of 5), not at the epoch it was asked at.
    expect(moved.epoch % 5).toBe(0);
    expect(moved.epoch).toBeGreaterThan(0);
    // The checkpoints go on without a gap or a repeat, and it never paused on the way.
    const epochs = events.filter((e): e is Extract<WorkerEvent, { type: 'checkpoint' }> => e.type === 'checkpoint').map((e) => e.checkpoint.epoch);
    expect(epochs).toEqual([0, 5, 10, 15, 20, 25, 30]);
    const statuses = events.filter((e): e is Extract<WorkerEvent, { type: 'status' }> => e.type === 'status').map((e) => e.status);
    expect(statuses.slice(statuses.indexOf('running'))).not.toContain('paused');
    expect(statuses.at(-1)).toBe('done');
    expect(session.currentTrainer!.epoch).toBe(30);

    // The run that started on wasm from the state at the move, through the same read and restore.
    await useBackend('cpu');
    const onCpu = new Trainer(config);
    while (onCpu.epoch < moved.epoch) onCpu.trainStep();
    const atMove = await onCpu.readState();
    onCpu.dispose();
    expectClose(state, await straightRun('wasm', atMove), 1e-5);
    // And a run on wasm all along agrees within the backends' own rounding.
    const allWasm = await straightRun('wasm');
    console.log(`cpu → wasm at epoch ${moved.epoch} vs wasm all along, 30 epochs: max |Δw| ${maxAbsDiff(state.weights, allWasm.weights).toExponential(2)}, |Δm| ${maxAbsDiff(state.m, allWasm.m).toExponential(2)}, |Δv| ${maxAbsDiff(state.v, allWasm.v).toExponential(2)}`);
    expectClose(state, allWasm, 1e-5);
    expect(leaked()).toBe(0);
  });
});
