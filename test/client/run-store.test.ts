import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { RunStore, isAbortedError, isClosedError, newRunKey } from '../../src/client/storage/run-store.ts';
import { LLC_DEFAULTS, defaultNbeta } from '../../src/config/llc.ts';
import { numParams } from '../../src/model/transformer/params.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import type { RunData } from '../../src/files/run-file.ts';
import { checkpointFixture, tinyConfig } from '../helpers.ts';

const config = tinyConfig();
const n = numParams(config);

function checkpoint(epoch: number): Checkpoint {
  return checkpointFixture(epoch, {
    trainLoss: 1 / (epoch + 1),
    testLoss: 2,
    sumSquaredWeights: 3,
    keyFreqsVersion: 1,
    normsWE: [1, 2, 3, 4],
    normsWL: [1, 2, 3, epoch],
    cosCoefficients: [1, 2, 3],
    excludedLossPerFreq: [4],
  });
}

function run(epochs: number[]): RunData {
  return {
    name: 'test run',
    config,
    trainIndices: Int32Array.from({ length: 24 }, (_, i) => i * 2),
    keyFreqs: { version: 1, active: [2], live: [2], pinned: false },
    history: epochs.map(checkpoint),
    snapshots: [],
    resume: { t: epochs.at(-1)!, weights: new Float32Array(n).fill(0.5), m: new Float32Array(n).fill(0.1), v: new Float32Array(n).fill(0.2) },
    backend: { name: 'wasm', adapter: 'test' },
    createdAt: '2026-11-24T00:00:00Z',
  };
}

const snap = (epoch: number) => ({ epoch, weights: new Float32Array(n).fill(epoch) });

describe('storage errors', () => {
  it("tells a transaction aborted under a clear of the site's data from a closed connection and a full disk", () => {
    const aborted = new DOMException('The transaction was aborted, so the request cannot be fulfilled.', 'AbortError');
    expect(isAbortedError(aborted)).toBe(true);
    expect(isClosedError(aborted)).toBe(false);
    expect(isAbortedError(new DOMException('The database connection is closing.', 'InvalidStateError'))).toBe(false);
    expect(isAbortedError(new DOMException('Quota exceeded.', 'QuotaExceededError'))).toBe(false);
    expect(isAbortedError(null)).toBe(false);
  });

  it('opens again when an open races a clear of the site data ("The connection was closed"), and not for other errors', async () => {
    const real = new IDBFactory();
    // The first `fails` opens fail as Chromium's did when the clear landed on them (nothing-lost-again, item 4).
    const flaky = (fails: number, error: DOMException) => {
      let calls = 0;
      return {
        calls: () => calls,
        factory: {
          open: (name: string, version?: number) => {
            if (calls++ >= fails) return real.open(name, version);
            const req = {} as { error: DOMException; onerror?: () => void };
            setTimeout(() => ((req.error = error), req.onerror?.()));
            return req as unknown as IDBOpenDBRequest;
          },
        } as unknown as IDBFactory,
      };
    };
    const closed = flaky(2, new DOMException('The connection was closed.', 'AbortError'));
    const store = await RunStore.open(closed.factory, 'retry-db');
    expect(closed.calls()).toBe(3);
    expect(await store.list()).toEqual([]);
    const denied = flaky(1, new DOMException('The user denied permission to access the database.', 'UnknownError'));
    await expect(RunStore.open(denied.factory, 'denied-db')).rejects.toThrow(/denied/);
    expect(denied.calls()).toBe(1);
  });
});

describe('saved runs (IndexedDB)', () => {
  it('saves incrementally and loads back the same run', async () => {
    const store = await RunStore.open(new IDBFactory());
    const key = newRunKey();
    await store.save({ key, name: 'first', finished: false, run: run([0, 10]), newSnapshots: [snap(0), snap(10)] });
    await store.save({ key, name: 'first', finished: false, run: run([0, 10, 20]), newSnapshots: [snap(20)] });
    const [meta] = await store.list();
    // A save never drops a snapshot the run holds (issue 16, finding 3).
    expect(meta).toMatchObject({ key, name: 'first', epoch: 20, snapshotEpochs: [0, 10, 20], finished: false });
    expect(meta.bytes).toBeGreaterThan(2 * 4 * n);
    const back = await store.load(key);
    expect(back.history.map((c) => c.epoch)).toEqual([0, 10, 20]);
    expect(back.history[2].normsWL).toEqual([1, 2, 3, 20]);
    expect(back.snapshots.map((s) => s.epoch)).toEqual([0, 10, 20]);
    expect(back.snapshots[2].weights[0]).toBe(20);
    expect(back.resume!.t).toBe(20);
    expect(Array.from(back.resume!.m.slice(0, 2))).toEqual([Math.fround(0.1), Math.fround(0.1)]);
    expect(back.keyFreqs).toEqual({ version: 1, active: [2], live: [2], pinned: false });
    store.close();
  });

  it('lists, renames and deletes runs', async () => {
    const store = await RunStore.open(new IDBFactory());
    await store.save({ key: 'a', name: 'A', finished: true, run: run([0]), newSnapshots: [snap(0)] });
    await new Promise((r) => setTimeout(r, 5));
    await store.save({ key: 'b', name: 'B', finished: false, run: run([0]), newSnapshots: [] });
    expect((await store.list()).map((r) => r.key)).toEqual(['b', 'a']);
    await store.rename('a', 'renamed');
    expect((await store.list()).find((r) => r.key === 'a')!.name).toBe('renamed');
    await store.delete('a');
    expect((await store.list()).map((r) => r.key)).toEqual(['b']);
    await expect(store.load('a')).rejects.toThrow(/no longer exists/);
    store.close();
  });

  it('thins the oldest run’s snapshots first, never its latest, to fit the budget', async () => {
    const store = await RunStore.open(new IDBFactory());
    const epochs = [0, 10, 20, 30, 40, 50, 60, 70];
    await store.save({ key: 'old', name: 'old', finished: true, run: run([0, 70]), newSnapshots: epochs.map(snap) });
    await new Promise((r) => setTimeout(r, 5));
    await store.save({ key: 'new', name: 'new', finished: false, run: run([0, 70]), newSnapshots: epochs.map(snap) });
    const total = await store.usage();
    const report = await store.enforceBudget(total - 3 * 4 * n);
    expect(report.freed).toBeGreaterThanOrEqual(3 * 4 * n);
    expect(report).toMatchObject({ thinned: ['old'], deleted: [], over: false });
    const runs = await store.list();
    const old = runs.find((r) => r.key === 'old')!;
    const fresh = runs.find((r) => r.key === 'new')!;
    expect(old.snapshotEpochs.length).toBeLessThan(epochs.length);
    expect(old.snapshotEpochs.at(-1)).toBe(70);
    expect(fresh.snapshotEpochs).toEqual(epochs);
    const loaded = await store.load('old');
    expect(loaded.snapshots.map((s) => s.epoch)).toEqual(old.snapshotEpochs);
    expect(loaded.resume).not.toBeNull();
    store.close();
  });

  it('thins runs of two snapshots too, then deletes the oldest whole runs, never the open one, and says so', async () => {
    const store = await RunStore.open(new IDBFactory());
    for (const key of ['a', 'b', 'c']) {
      await store.save({ key, name: key.toUpperCase(), finished: false, run: run([0, 10]), newSnapshots: [snap(0), snap(10)] });
      await new Promise((r) => setTimeout(r, 5));
    }
    const one = (await store.list())[0].bytes;
    // Room for two runs with one snapshot each: A is thinned then deleted; C (open) is kept.
    const report = await store.enforceBudget(2 * (one - 4 * n), 'a');
    const left = await store.list();
    expect(left.map((r) => r.key).sort()).toEqual(['a', 'c']);
    expect(report.deleted).toEqual(['B']);
    expect(report.over).toBe(false);
    for (const r of left) expect(r.snapshotEpochs).toEqual([10]);
    expect(left.reduce((t, r) => t + r.bytes, 0)).toBeLessThanOrEqual(2 * (one - 4 * n));
    store.close();
  });

  it('a checkpoint journal after the file is what a load resumes from', async () => {
    const store = await RunStore.open(new IDBFactory());
    await store.save({ key: 'j', name: 'J', finished: false, run: run([0, 10]), newSnapshots: [snap(10)] });
    const w = new Float32Array(n).fill(0.75);
    expect(await store.journal('j', { t: 30, weights: w, m: w, v: w, rows: [checkpoint(20), checkpoint(30)], keyFreqs: null })).toBe(true);
    expect((await store.list())[0].epoch).toBe(30);
    const back = await store.load('j');
    expect(back.history.map((c) => c.epoch)).toEqual([0, 10, 20, 30]);
    expect(back.resume!.t).toBe(30);
    expect(back.resume!.weights[3]).toBe(0.75);
    expect(back.llc ?? null).toBeNull();
    // The LLC estimates made between checkpoints ride with the next journal entry (#23).
    const llc = { settings: { ...LLC_DEFAULTS, nbeta: defaultNbeta(LLC_DEFAULTS.batch) }, points: [{ epoch: 10, llc: 16.4, error: 0.3, settled: true, seconds: 11 }] };
    expect(await store.journal('j', { t: 35, weights: w, m: w, v: w, rows: [checkpoint(20), checkpoint(30)], keyFreqs: null, llc })).toBe(true);
    expect((await store.load('j')).llc).toEqual(llc);
    // A full save at a later epoch supersedes the journal.
    await store.save({ key: 'j', name: 'J', finished: false, run: run([0, 10, 20, 30, 40]), newSnapshots: [] });
    expect((await store.load('j')).resume!.t).toBe(40);
    // No journal for a run that is not saved (deleted meanwhile).
    expect(await store.journal('gone', { t: 1, weights: w, m: w, v: w, rows: [], keyFreqs: null })).toBe(false);
    store.close();
  });
});
