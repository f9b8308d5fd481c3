/**
 * Branches (src/files/branch.ts, issue #13): a branch at the run's latest epoch continues exactly
 * like resuming (same weights and Adam moments) with the new λ — the same updates as a resumed run
 * whose λ is changed live — and a branch at an older snapshot starts from its weights with fresh
 * moments and the history up to it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import { branchRun, describeChanges } from '../../src/files/branch.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import type { ExportedState, LoadableRun, WorkerEvent } from '../../src/run/protocol.ts';
import type { RunData } from '../../src/files/run-file.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { tinyConfig, useBackend } from '../helpers.ts';

function session() {
  const events: WorkerEvent[] = [];
  const s = new TrainingSession({
    createTrainer: (c, init) => new Trainer(c, init),
    post: (e) => events.push(e),
    backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
    checkpointEvery: 10,
  });
  const checkpoints = () => events.filter((e): e is Extract<WorkerEvent, { type: 'checkpoint' }> => e.type === 'checkpoint').map((e) => e.checkpoint);
  const exportState = async (): Promise<ExportedState> => {
    await s.handle({ type: 'exportState', requestId: 1, snapshotsAfter: -1 });
    return events.filter((e): e is Extract<WorkerEvent, { type: 'state' }> => e.type === 'state').at(-1)!.state;
  };
  const ready = () => events.filter((e): e is Extract<WorkerEvent, { type: 'ready' }> => e.type === 'ready').at(-1)!;
  return { s, checkpoints, exportState, ready };
}

const loadable = (r: RunData): LoadableRun => ({ config: r.config, trainIndices: r.trainIndices, keyFreqs: r.keyFreqs, snapshots: r.snapshots, resume: r.resume });

describe('branchRun', () => {
  beforeAll(() => useBackend('wasm'));

  it('at the latest epoch: continues exactly like resuming, with the new λ', async () => {
    const parent = session();
    await parent.s.handle({ type: 'init', config: tinyConfig({ epochs: 1000, weightDecay: 1 }), backend: null });
    await parent.s.handle({ type: 'step', epochs: 20 });
    await parent.s.idle();
    const state = await parent.exportState();
    const history: Checkpoint[] = parent.checkpoints();
    const branch = branchRun(state, history, 20, { weightDecay: 0.3 }, 'branch');
    expect(branch).toMatchObject({ from: 20, exact: true });
    expect(branch.run.config.weightDecay).toBe(0.3);
    expect(branch.run.history.map((h) => h.epoch)).toEqual([0, 10, 20]);

    // The branch, trained 10 more updates.
    const b = session();
    await b.s.handle({ type: 'init', config: branch.run.config, backend: null, run: loadable(branch.run) });
    expect(b.ready().loadedAt).toBe(20);
    await b.s.handle({ type: 'step', epochs: 10 });
    await b.s.idle();
    const bs = await b.exportState();

    // The parent resumed (its own state, its own λ), then λ changed live before the same 10 updates.
    const r = session();
    await r.s.handle({ type: 'init', config: state.config, backend: null, run: { config: state.config, trainIndices: state.trainIndices, keyFreqs: state.keyFreqs, snapshots: state.snapshots, resume: state.resume } });
    await r.s.handle({ type: 'set', settings: { weightDecay: 0.3 } });
    await r.s.handle({ type: 'step', epochs: 10 });
    await r.s.idle();
    const rs = await r.exportState();

    expect(bs.resume.t).toBe(30);
    expect(rs.resume.t).toBe(30);
    expect(bs.resume.weights).toEqual(rs.resume.weights);
    expect(bs.resume.m).toEqual(rs.resume.m);
    expect(bs.resume.v).toEqual(rs.resume.v);
    expect(b.checkpoints().at(-1)!.weightDecay).toBe(0.3);
    // And the λ mattered: the parent going on with λ = 1 ends elsewhere.
    await parent.s.handle({ type: 'step', epochs: 10 });
    await parent.s.idle();
    const ps = await parent.exportState();
    expect(ps.resume.weights).not.toEqual(bs.resume.weights);
    for (const x of [parent, b, r]) x.s.dispose();
  });

  it('at an older epoch: the snapshot at or before it, fresh moments, the history up to it', async () => {
    const parent = session();
    await parent.s.handle({ type: 'init', config: tinyConfig({ epochs: 1000 }), backend: null });
    await parent.s.handle({ type: 'step', epochs: 30 });
    await parent.s.idle();
    const state = await parent.exportState();
    const branch = branchRun(state, parent.checkpoints(), 17, { lr: 3e-3, grokfastLambda: 2 }, 'branch');
    expect(branch).toMatchObject({ from: 10, exact: false });
    expect(branch.run.resume).toBeNull();
    expect(branch.run.snapshots.map((x) => x.epoch)).toEqual([0, 10]);
    expect(branch.run.history.map((h) => h.epoch)).toEqual([0, 10]);
    const b = session();
    await b.s.handle({ type: 'init', config: branch.run.config, backend: null, run: loadable(branch.run) });
    expect(b.ready().loadedAt).toBe(10);
    const bs = await b.exportState();
    // Its weights are the snapshot's.
    expect(bs.resume.weights).toEqual(state.snapshots[1].weights);
    expect(bs.resume.m.every((x) => x === 0)).toBe(true);
    expect(() => branchRun({ ...state, snapshots: [] }, [], 5, {}, 'x')).toThrow(/no snapshot/);
    parent.s.dispose();
    b.s.dispose();
  });

  it('names what changed', () => {
    expect(describeChanges(tinyConfig({ weightDecay: 1, lr: 1e-3 }), { weightDecay: 0.3, lr: 1e-3 })).toBe('λ 1 → 0.3');
    expect(describeChanges(tinyConfig({}), {})).toBe('same settings');
  });
});
