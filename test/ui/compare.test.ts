/**
 * Comparing runs (issue #13): the legend names each run by the settings in which the runs differ,
 * each compared run gets its own colour, and the training-curve charts draw them over the run on
 * show (test solid, train dotted) without drawing the run on show twice.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import { COMPARE_COLORS, differingSettings, useCompareStore } from '../../src/store/compare.ts';
import type { AppState } from '../../src/store/store.ts';
import { withOverlay } from '../../src/ui/charts/overlay.ts';

const base = presetConfig('mainline');
const run = (key: string, changes: Partial<typeof base>) => ({ key, name: key, config: { ...base, ...changes }, epoch: [0, 10], trainLoss: [4, 1], testLoss: [4, 3], trainAcc: [0, 0.5], testAcc: [0, 0.1] });

describe('compare', () => {
  beforeEach(() => useCompareStore.setState({ runs: [], version: 0 }));

  it('names runs by the settings in which they differ (not by epochs)', () => {
    expect(differingSettings([base, { ...base, weightDecay: 0.3 }, { ...base, weightDecay: 0.3, lr: 3e-3, epochs: 5 }])).toEqual(['lr=0.001, wd=1', 'lr=0.001, wd=0.3', 'lr=0.003, wd=0.3']);
    expect(differingSettings([base, { ...base, epochs: 10 }])).toEqual(['same settings', 'same settings']);
  });

  it('one colour each; a removed run frees its colour', () => {
    const s = useCompareStore.getState();
    s.add(run('a', { weightDecay: 0.3 }));
    s.add(run('b', { weightDecay: 3 }));
    expect(useCompareStore.getState().runs.map((r) => r.color)).toEqual([COMPARE_COLORS[0], COMPARE_COLORS[1]]);
    useCompareStore.getState().remove('a');
    useCompareStore.getState().add(run('c', { lr: 3e-3 }));
    expect(useCompareStore.getState().runs.map((r) => [r.key, r.color])).toEqual([
      ['b', COMPARE_COLORS[1]],
      ['c', COMPARE_COLORS[0]],
    ]);
  });

  it('draws compared runs over the chart, labelled, but not the run on show', () => {
    const spec = () => ({ data: [{ name: 'train' }, { name: 'test' }], layout: { datarevision: 3 } });
    const state = { applied: base, draft: base, currentRunKey: 'b' } as unknown as AppState;
    expect(withOverlay(spec, 'loss')(state).data).toHaveLength(2);
    useCompareStore.getState().add(run('a', { weightDecay: 0.3 }));
    useCompareStore.getState().add(run('b', {}));
    const drawn = withOverlay(spec, 'acc')(state);
    expect(drawn.data.map((d) => d.name)).toEqual(['train', 'test', 'wd=0.3 · test', 'wd=0.3 · train']);
    expect(drawn.data[2].y).toEqual([0, 10]);
    expect((drawn.data[3].line as { dash?: string }).dash).toBe('dot');
  });
});
