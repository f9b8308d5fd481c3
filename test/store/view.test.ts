/** The views' pure functions: live changes from the history, the preset the form names, the address of a recording. */
import { describe, expect, it } from 'vitest';
import { addressQuery } from '../../src/client/address.ts';
import { presetConfig } from '../../src/config/presets.ts';
import { decodeQuery } from '../../src/config/url.ts';
import { createAppStore } from '../../src/store/store.ts';
import { presetOfRun, shownPreset } from '../../src/ui/controls/preset-shown.ts';
import { liveChanges, viewedHeavy } from '../../src/store/view.ts';
import type { HeavyResult } from '../../src/run/protocol.ts';
import { epochNote } from '../../src/ui/charts/HeavyViews.tsx';
import { checkpointFixture } from '../helpers.ts';

function storeWith(wd: number[]) {
  const store = createAppStore();
  wd.forEach((w, i) => store.getState().history.push(checkpointFixture(i * 50, { weightDecay: w })));
  return store;
}

describe('live changes', () => {
  it('are found between the checkpoints where λ differs', () => {
    const s = storeWith([0, 0, 1, 1, 0.5]).getState();
    expect(liveChanges(s)).toEqual([
      { epoch: 100, before: 50, setting: 'weight decay λ', from: 0, to: 1 },
      { epoch: 200, before: 150, setting: 'weight decay λ', from: 1, to: 0.5 },
    ]);
    expect(liveChanges(storeWith([1, 1, 1]).getState())).toEqual([]);
  });
});

describe('the preset the form names', () => {
  it('follows the settings: "custom" (null) while one differs, the name again once all are back (#21)', () => {
    const store = storeWith([0, 0]);
    store.setState({ draft: presetConfig('no-wd'), preset: 'no-wd' });
    expect(shownPreset(store.getState())).toBe('no-wd');
    store.setState({ draft: { ...presetConfig('no-wd'), weightDecay: 0.5 } });
    expect(shownPreset(store.getState())).toBe(null);
    // (no-wd with λ = 1 is the mainline: the menu names it)
    store.setState({ draft: { ...presetConfig('no-wd'), weightDecay: 1 } });
    expect(shownPreset(store.getState())).toBe('mainline');
    const mixed = storeWith([0, 1, 0]);
    mixed.setState({ draft: presetConfig('no-wd'), preset: 'no-wd' });
    expect(shownPreset(mixed.getState())).toBe('no-wd');
  });

  it("is the run's experiment only if it was trained with the preset's λ all along", () => {
    const store = storeWith([0, 0]);
    store.setState({ draft: presetConfig('no-wd') });
    expect(presetOfRun(store.getState())).toBe('no-wd');
    const mixed = storeWith([0, 1, 0]);
    mixed.setState({ draft: presetConfig('no-wd') });
    expect(presetOfRun(mixed.getState())).toBe(null);
  });
});

describe('the address of a recording', () => {
  it('keeps run= and the scrubbed epoch at=, not the configuration', () => {
    const store = createAppStore();
    store.setState({ recording: { key: 'reference', name: 'Reference' }, viewEpoch: 3000, draft: { ...presetConfig('mainline'), epochs: 16000 } });
    const q = addressQuery(store.getState());
    expect(q).toBe('run=reference&at=3000');
    const back = decodeQuery(q);
    expect(back.run).toBe('reference');
    expect(back.at).toBe(3000);
    store.setState({ viewEpoch: null, keyFreqsRequest: [14] });
    expect(addressQuery(store.getState())).toBe('run=reference&k=14');
    store.setState({ recording: null });
    expect(addressQuery(store.getState())).toMatch(/epochs=16000/);
  });

  it('names a bad at= in the link', () => {
    const d = decodeQuery('run=reference&at=soon');
    expect(d.at).toBeNull();
    expect(d.issues.map((i) => i.key)).toEqual(['at']);
  });
});

describe('the heavy views while Play runs ahead of them (#21 item 10)', () => {
  it('show the newest prepared snapshot at or before the shown epoch, and say which', () => {
    const store = storeWith([1, 1, 1, 1, 1, 1, 1]);
    const heavy = new Map([100, 300].map((e) => [e, { epoch: e } as unknown as HeavyResult]));
    store.setState({ snapshotEpochs: [0, 100, 200, 300], heavy, viewEpoch: 250 });
    // Snapshot 200 is not prepared: 100 (behind), not 300 (closer, but after the shown epoch).
    const h = viewedHeavy(store.getState())!;
    expect(h).toMatchObject({ exact: false, ahead: false });
    expect(h.result.epoch).toBe(100);
    expect(epochNote(h)).toMatch(/^epoch 100 \(catching up/);
    store.setState({ viewEpoch: 300 });
    expect(viewedHeavy(store.getState())).toMatchObject({ exact: true, result: { epoch: 300 } });
    // Nothing prepared at or before: the nearest after, and the label says it is after.
    store.setState({ heavy: new Map([[300, { epoch: 300 } as unknown as HeavyResult]]), viewEpoch: 50 });
    const a = viewedHeavy(store.getState())!;
    expect(a).toMatchObject({ exact: false, ahead: true });
    expect(epochNote(a)).toMatch(/^epoch 300 \(nearest computed, after the shown epoch/);
  });
});
