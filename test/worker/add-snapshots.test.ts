import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import type { LoadableRun, WorkerEvent } from '../../src/run/protocol.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { tinyConfig, useBackend } from '../helpers.ts';

// A recording's snapshots that arrive after it was loaded (src/client/runs/recording-pieces.ts).
describe('late snapshots of a loaded run', () => {
  beforeAll(() => useBackend('wasm'));

  it('join the store, reach the page, and are re-measured when K changed before they came', async () => {
    const events: WorkerEvent[] = [];
    const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
    const session = new TrainingSession({ createTrainer: (c, init) => new Trainer(c, init), post: (e) => events.push(e), backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 5 });
    const config = tinyConfig({ epochs: 20 });
    await session.handle({ type: 'init', config, backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const state = await new Promise<Extract<WorkerEvent, { type: 'state' }>['state']>((resolve) => {
      const n = events.length;
      void session.handle({ type: 'exportState', requestId: 1, snapshotsAfter: -1 }).then(() => resolve((events.slice(n).find((e) => e.type === 'state') as Extract<WorkerEvent, { type: 'state' }>).state));
    });
    const all = state.snapshots;
    expect(all.map((x) => x.epoch)).toEqual([0, 5, 10, 15, 20]);
    // Loaded with its last snapshot only, as a recording's head is.
    const run: LoadableRun = { config, trainIndices: state.trainIndices, keyFreqs: state.keyFreqs, snapshots: [all.at(-1)!], resume: null };
    await session.handle({ type: 'load', run });
    await session.idle();
    expect(of('snapshots').at(-1)!.epochs).toEqual([20]);
    await session.handle({ type: 'addSnapshots', snapshots: [all[3], all[0]] });
    await session.idle();
    expect(of('snapshots').at(-1)!.epochs).toEqual([0, 15, 20]);
    // K pinned, then more arrive: those are measured with the new K too.
    await session.handle({ type: 'setKeyFreqs', keyFreqs: [2] });
    await session.idle();
    const version = of('keyFreqs').at(-1)!.keyFreqs.version;
    const from = of('recomputed').length;
    await session.handle({ type: 'addSnapshots', snapshots: [all[1], all[2]] });
    await session.idle();
    expect(of('snapshots').at(-1)!.epochs).toEqual([0, 5, 10, 15, 20]);
    const rows = of('recomputed').slice(from).filter((e) => e.version === version).flatMap((e) => e.rows.map((r) => r.epoch));
    expect(rows.sort((a, b) => a - b)).toEqual([5, 10]);
    session.dispose();
  });
});
