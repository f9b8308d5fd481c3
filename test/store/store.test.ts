import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { History } from '../../src/store/history.ts';
import { createAppStore, needsReset } from '../../src/store/store.ts';
import { checkpointFixture } from '../helpers.ts';

const ckpt = (epoch: number, testLoss = 1) => checkpointFixture(epoch, { testLoss });

describe('History', () => {
  it('grows past its capacity and keeps every checkpoint', () => {
    const h = new History(4);
    for (let e = 0; e < 1000; e++) h.push(ckpt(e, e));
    expect(h.length).toBe(1000);
    expect(h.column('testLoss')[999]).toBe(999);
    expect(h.at(500).epoch).toBe(500);
  });

  it('keeps per-frequency rows and replaces re-measured values', () => {
    const h = new History(2);
    for (const e of [0, 10, 20]) h.push(ckpt(e));
    expect(Array.from(h.row('normsWL', 1))).toEqual([4, 5, 10]);
    expect(Array.from(h.matrixColumn('normsWL', 2))).toEqual([0, 10, 20]);
    expect(h.applyRecomputed({ epoch: 10, restrictedLoss: 9, restrictedAcc: 1, excludedLoss: 8, excludedLossPerFreq: [7], logitFVE: 0.9 }, 3)).toBe(true);
    expect(h.at(1)).toMatchObject({ restrictedLoss: 9, excludedLoss: 8, keyFreqsVersion: 3, excludedLossPerFreq: [7] });
    expect(h.applyRecomputed({ epoch: 15, restrictedLoss: 9, restrictedAcc: 1, excludedLoss: 8, excludedLossPerFreq: [], logitFVE: 0.9 }, 3)).toBe(false);
    expect(h.indexAtOrBefore(15)).toBe(1);
    expect(h.indexAtOrBefore(-5)).toBe(0);
  });

  it('drops later checkpoints when an earlier epoch arrives (a resumed run)', () => {
    const h = new History();
    for (const e of [0, 10, 20, 30]) h.push(ckpt(e));
    h.push(ckpt(20, 7));
    expect(Array.from(h.column('epoch'))).toEqual([0, 10, 20]);
    expect(h.last()!.testLoss).toBe(7);
  });
});

describe('store', () => {
  it('takes worker events: ready resets the history, checkpoints bump the version', () => {
    const store = createAppStore();
    const s = () => store.getState();
    s().receive({ type: 'ready', runId: 1, backend: { name: 'wasm', adapter: 'x', requested: null, skipped: [] }, numParams: 10, nTrain: 3, nTest: 4, config: DEFAULT_CONFIG, loadedAt: null });
    s().receive({ type: 'checkpoint', runId: 1, checkpoint: ckpt(0) });
    s().receive({ type: 'checkpoint', runId: 1, checkpoint: ckpt(5) });
    expect(s().history.length).toBe(2);
    const v = s().historyVersion;
    // An event from an older run is ignored.
    s().receive({ type: 'checkpoint', runId: 0, checkpoint: ckpt(9) });
    expect(s().historyVersion).toBe(v);
    s().receive({ type: 'ready', runId: 2, backend: { name: 'wasm', adapter: 'x', requested: null, skipped: [] }, numParams: 10, nTrain: 3, nTest: 4, config: DEFAULT_CONFIG, loadedAt: null });
    expect(s().history.length).toBe(0);
    s().receive({ type: 'error', runId: 2, message: 'boom', fatal: false });
    expect(s().notices.map((n) => n.text)).toEqual(['boom']);
  });

  it("a recording's preview: its curves show before its run loads, survive the replaced run's 'ready' and checkpoints, and can be withdrawn (#25)", () => {
    const store = createAppStore();
    const s = () => store.getState();
    const backend = { name: 'wasm' as const, adapter: 'x', requested: null, skipped: [] };
    const ready = (runId: number, loadedAt: number | null) => s().receive({ type: 'ready', runId, backend, numParams: 10, nTrain: 3, nTest: 4, config: DEFAULT_CONFIG, loadedAt });
    const recorded = [ckpt(0), ckpt(50), ckpt(100)];
    s().previewRecording({ key: 'reference', name: 'Reference' }, recorded);
    expect(Array.from(s().history.column('epoch'))).toEqual([0, 50, 100]);
    expect(s().recordingRequest?.key).toBe('reference');
    // The page's first, fresh run becomes ready meanwhile, and a checkpoint of it arrives: the curves stay.
    ready(1, null);
    s().receive({ type: 'checkpoint', runId: 1, checkpoint: ckpt(0, 9) });
    expect(Array.from(s().history.column('epoch'))).toEqual([0, 50, 100]);
    expect(s().recording).toBeNull();
    // The recording's run loads: the same curves, now the recording on show.
    ready(2, 100);
    expect(Array.from(s().history.column('epoch'))).toEqual([0, 50, 100]);
    expect(s().recording?.key).toBe('reference');
    expect(s().recordingRequest).toBeNull();
    // Checkpoints count again once it is loaded.
    s().receive({ type: 'checkpoint', runId: 2, checkpoint: ckpt(150) });
    expect(s().history.length).toBe(4);

    // A refused recording: the preview goes, the page is as before it.
    const other = createAppStore();
    other.getState().previewRecording({ key: 'no-wd', name: 'Control' }, recorded);
    const v = other.getState().historyVersion;
    other.getState().withdrawPreview();
    expect(other.getState().history.length).toBe(0);
    expect(other.getState().recordingRequest).toBeNull();
    expect(other.getState().pendingHistory).toBeNull();
    expect(other.getState().historyVersion).toBe(v + 1);
  });

  it("keeps a loaded run's history when the fresh run's 'ready' arrives after the load was sent", () => {
    const store = createAppStore();
    const s = () => store.getState();
    const backend = { name: 'wasm' as const, adapter: 'x', requested: null, skipped: [] };
    // A cached run file arrives before the worker has answered the page's first init.
    const loaded = [0, 50, 100].map((e) => ({ ...ckpt(e), testAcc: e >= 100 ? 0.995 : 0.1 }));
    store.setState({ pendingHistory: loaded });
    s().receive({ type: 'ready', runId: 1, backend, numParams: 10, nTrain: 3, nTest: 4, config: DEFAULT_CONFIG, loadedAt: null });
    expect(s().history.length).toBe(0);
    s().receive({ type: 'ready', runId: 2, backend, numParams: 10, nTrain: 3, nTest: 4, config: DEFAULT_CONFIG, loadedAt: 100 });
    expect(Array.from(s().history.column('epoch'))).toEqual([0, 50, 100]);
    expect(s().pendingHistory).toBeNull();
    // The speed panel's time to grok comes from the loaded history (its training time unknown).
    expect(s().grokked).toEqual({ epoch: 100, trainSeconds: null });
  });

  it('records when test accuracy first reaches 99%, with the training time so far', () => {
    const store = createAppStore();
    const s = () => store.getState();
    s().receive({ type: 'ready', runId: 1, backend: { name: 'wasm', adapter: 'x', requested: null, skipped: [] }, numParams: 10, nTrain: 3, nTest: 4, config: DEFAULT_CONFIG, loadedAt: null });
    s().receive({ type: 'progress', runId: 1, epoch: 40, epochsPerSec: 100, trainSeconds: 12.5, trainLoss: 0.1, checkpointEvery: 10 });
    s().receive({ type: 'checkpoint', runId: 1, checkpoint: { ...ckpt(40), testAcc: 0.98 } });
    expect(s().grokked).toBeNull();
    s().receive({ type: 'checkpoint', runId: 1, checkpoint: { ...ckpt(50), testAcc: 0.99 } });
    s().receive({ type: 'progress', runId: 1, epoch: 60, epochsPerSec: 100, trainSeconds: 15, trainLoss: 0.1, checkpointEvery: 10 });
    s().receive({ type: 'checkpoint', runId: 1, checkpoint: { ...ckpt(60), testAcc: 1 } });
    expect(s().grokked).toEqual({ epoch: 50, trainSeconds: 12.5 });
  });

  it('tells which draft changes need a reset', () => {
    expect(needsReset({ ...DEFAULT_CONFIG, weightDecay: 0 }, DEFAULT_CONFIG)).toBe(false);
    expect(needsReset({ ...DEFAULT_CONFIG, epochs: 5 }, DEFAULT_CONFIG)).toBe(false);
    expect(needsReset({ ...DEFAULT_CONFIG, p: 53 }, DEFAULT_CONFIG)).toBe(true);
    expect(needsReset(DEFAULT_CONFIG, null)).toBe(true);
  });
});

describe('notices (issue 24)', () => {
  it('never repeat the same one in a row, and are cut when a file pastes megabytes into them', () => {
    const store = createAppStore();
    for (let i = 0; i < 63; i++) store.getState().notify('warning', 'The run could not be saved: the database connection is closing.');
    expect(store.getState().notices).toHaveLength(1);
    store.getState().notify('info', 'something else');
    store.getState().notify('warning', 'The run could not be saved: the database connection is closing.');
    expect(store.getState().notices).toHaveLength(3);
    store.getState().notify('error', `a name: ${'k'.repeat(50_000_000)}`);
    expect(store.getState().notices.at(-1)!.text.length).toBeLessThanOrEqual(1501);
  });
});
