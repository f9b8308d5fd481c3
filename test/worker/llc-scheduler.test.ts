import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { TimeShare, nextLlcEpoch } from '../../src/worker/training/llc-scheduler.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { Rng } from '../../src/random/rng.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

function collect() {
  const events: WorkerEvent[] = [];
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
  return { events, of, post: (e: WorkerEvent) => events.push(e) };
}

const wasm = () => ({ name: 'wasm' as const, adapter: '', requested: null, skipped: [] });
const TINY = { settings: { chains: 2, draws: 8, batch: 8 }, share: 0.5 };

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the LLC time share', () => {
  it('never takes more than its share, whatever the chunks cost, and is due again after its pause', () => {
    for (const share of [0.03, 0.1, 0.5]) {
      const t = new TimeShare(share);
      const rng = new Rng(7);
      let now = 0;
      let busy = 0;
      let chunks = 0;
      // Training blocks of 50–300 ms; between two, a chunk of 1–400 ms when the share allows.
      while (now < 600_000) {
        now += 50 + rng.int(250);
        if (!t.due(now)) continue;
        const ms = 1 + rng.int(400);
        t.took(now, now + ms);
        now += ms;
        busy += ms;
        chunks++;
        expect(t.due(now + (ms * (1 - share)) / share - 1)).toBe(false);
        expect(t.due(now + (ms * (1 - share)) / share)).toBe(true);
      }
      expect(chunks).toBeGreaterThan(10);
      // The last chunk's pause may be cut by the end of the window: at most one chunk over.
      expect(busy).toBeLessThanOrEqual(share * now + 400);
      expect(busy).toBeGreaterThan(share * now * 0.5);
    }
  });
});

describe('which snapshot next', () => {
  it('takes the newest first, then halves the gaps, and stops when all are estimated', () => {
    const epochs = [0, 10, 20, 30, 40, 50, 60, 70, 80];
    const done = new Set<number>();
    const order: number[] = [];
    for (let e = nextLlcEpoch(epochs, done); e !== null; e = nextLlcEpoch(epochs, done)) {
      order.push(e);
      done.add(e);
    }
    expect(order.slice(0, 3)).toEqual([80, 0, 40]);
    expect(new Set(order.slice(3, 5))).toEqual(new Set([20, 60]));
    expect([...order].sort((a, b) => a - b)).toEqual(epochs);
    // A new snapshot while training goes first.
    expect(nextLlcEpoch([...epochs, 90], done)).toBe(90);
    expect(nextLlcEpoch([], done)).toBeNull();
  });
});

describe('the LLC over training in the session', () => {
  beforeAll(() => useBackend('wasm'));

  it('estimates snapshots while training goes on, then every snapshot when idle, and frees what it holds', async () => {
    const config = tinyConfig({ epochs: 200, lr: 0.01 });
    // The tensors the same run holds when nothing estimates its LLC.
    const plain = new TrainingSession({ createTrainer: (c) => new Trainer(c), post: () => undefined, backendInfo: wasm, checkpointEvery: 10 });
    await plain.handle({ type: 'init', config, backend: null });
    await plain.handle({ type: 'start' });
    await plain.idle();
    const without = numTensors();
    plain.dispose();
    const { events, of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: wasm, checkpointEvery: 10 });
    await session.handle({ type: 'init', config, backend: null });
    await session.idle();
    await session.handle({ type: 'llc', schedule: TINY });
    await session.handle({ type: 'start' });
    await session.idle();
    const estimates = of('llc');
    // Made while training ran: an estimate came before the last epoch's progress.
    const firstEstimate = events.indexOf(estimates[0]);
    const progressAfter = events.slice(firstEstimate).filter((e) => e.type === 'progress');
    expect(progressAfter.length).toBeGreaterThan(0);
    expect(progressAfter.at(-1)!.type === 'progress' && progressAfter.at(-1)!.epoch).toBe(200);
    // And every snapshot by the time the session is idle.
    const snapshotEpochs = of('snapshots').at(-1)!.epochs;
    expect(new Set(estimates.map((e) => e.estimate.epoch))).toEqual(new Set(snapshotEpochs));
    for (const { estimate } of estimates) {
      expect(estimate.traces).toHaveLength(2);
      for (const t of estimate.traces) expect(t).toHaveLength(8);
      expect(estimate.settings).toMatchObject({ chains: 2, draws: 8, batch: 8, eps: 5e-5, gamma: 1000 });
      expect(Number.isFinite(estimate.llc)).toBe(true);
      expect(estimate.error).toBeCloseTo(Math.abs(estimate.llcPerChain[0] - estimate.llcPerChain[1]) / 2, 6);
    }
    expect(numTensors()).toBe(without);
    // New settings: the curve starts again, and once more everything is freed.
    const before = estimates.length;
    await session.handle({ type: 'llc', schedule: { ...TINY, settings: { ...TINY.settings, seed: 1 } } });
    await session.idle();
    expect(of('llc').length - before).toBe(snapshotEpochs.length);
    expect(numTensors()).toBe(without);
    session.dispose();
  });

  it('an estimate in flight is dropped, its tensors freed, when the settings go off or the run is reset', async () => {
    const { events, of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: wasm, checkpointEvery: 10 });
    const config = tinyConfig({ epochs: 20, lr: 0.01 });
    await session.handle({ type: 'init', config, backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const without = numTensors();
    const long = { settings: { chains: 2, draws: 100_000, batch: 8 }, share: 0.5 };
    await session.handle({ type: 'llc', schedule: long });
    await until(() => of('llcProgress').length > 3);
    await session.handle({ type: 'llc', schedule: null });
    await session.idle();
    expect(numTensors()).toBe(without);
    expect(of('llc')).toHaveLength(0);
    // On again, then a reset: the old run's estimate stops; the new run is estimated with the same schedule.
    await session.handle({ type: 'llc', schedule: long });
    await until(() => of('llcProgress').length > 6);
    const oldRun = of('ready').at(-1)!.runId;
    await session.handle({ type: 'reset', config });
    const newRun = of('ready').at(-1)!.runId;
    expect(newRun).not.toBe(oldRun);
    const readyAt = events.lastIndexOf(of('ready').at(-1)!);
    await until(() => events.slice(readyAt).some((e) => e.type === 'llcProgress'));
    expect(events.slice(readyAt).filter((e) => (e.type === 'llcProgress' || e.type === 'llc') && e.runId === oldRun)).toHaveLength(0);
    await session.handle({ type: 'llc', schedule: null });
    await session.idle();
    // The new run holds what a new run without estimates holds: no chains of either run are left.
    const after = numTensors();
    await session.handle({ type: 'reset', config });
    await session.idle();
    expect(after).toBe(numTensors());
    session.dispose();
  });
});

describe('the LLC over training of a loaded run', () => {
  beforeAll(() => useBackend('wasm'));

  it('does not estimate again the snapshots its run file brought at the same settings, and does at others', async () => {
    const config = tinyConfig({ epochs: 30, lr: 0.01 });
    const first = collect();
    const a = new TrainingSession({ createTrainer: (c) => new Trainer(c), post: first.post, backendInfo: wasm, checkpointEvery: 10 });
    await a.handle({ type: 'init', config, backend: null });
    await a.handle({ type: 'llc', schedule: TINY });
    await a.handle({ type: 'start' });
    await a.idle();
    const made = first.of('llc').map((e) => e.estimate);
    const snapshots = first.of('snapshots').at(-1)!.epochs;
    expect(new Set(made.map((e) => e.epoch))).toEqual(new Set(snapshots));
    a.dispose();
    // The file kept the estimates of all but the last snapshot.
    const kept = made.filter((e) => e.epoch < 30);
    const series = { settings: made[0].settings, points: kept.map((e) => ({ epoch: e.epoch, llc: e.llc, error: e.error, settled: e.settled, seconds: e.seconds })) };
    const trained = new Trainer(config);
    const loadable = { config, trainIndices: trained.dataset.train, keyFreqs: null, snapshots: snapshots.map((epoch) => ({ epoch, weights: new Float32Array(trained.flatWeightsLength).fill(0.01) })), resume: null, llc: series };
    trained.dispose();
    const second = collect();
    const b = new TrainingSession({ createTrainer: (c, init) => new Trainer(c, init), post: second.post, backendInfo: wasm });
    await b.handle({ type: 'init', config, backend: null, run: loadable });
    await b.handle({ type: 'llc', schedule: TINY });
    await b.idle();
    expect(second.of('llc').map((e) => e.estimate.epoch)).toEqual([30]);
    // Other settings: every snapshot again.
    await b.handle({ type: 'llc', schedule: { ...TINY, settings: { ...TINY.settings, draws: 9 } } });
    await b.idle();
    expect(second.of('llc').length).toBe(1 + snapshots.length);
    b.dispose();
  });
});
