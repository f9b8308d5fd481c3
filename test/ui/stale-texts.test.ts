/** Texts derived from the state they describe (#21): the scrubber's label, the guide's subject, the snapshot the views use. */
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import { createAppStore } from '../../src/store/store.ts';
import { viewedSnapshot } from '../../src/store/view.ts';
import { runFacts } from '../../src/ui/guide/Guide.tsx';
import { scrubLabel } from '../../src/ui/time/playback.ts';
import { checkpointFixture } from '../helpers.ts';

describe('the scrubber label', () => {
  it('says "live" only for a run training here, never for a recording', () => {
    expect(scrubLabel({ epoch: 16_000, following: true, recording: false, snapshot: 16_000 })).toBe('live · epoch 16,000');
    expect(scrubLabel({ epoch: 16_000, following: true, recording: true, phase: 'stable', snapshot: 16_000 })).toBe('epoch 16,000 · stable');
  });

  it('names the snapshot the heavy views show when it is not the epoch itself', () => {
    expect(scrubLabel({ epoch: 650, following: false, recording: true, phase: 'memorization', snapshot: 600 })).toBe('epoch 650 · memorization · weights from epoch 600');
    expect(scrubLabel({ epoch: 600, following: false, recording: true, snapshot: 600 })).toBe('epoch 600');
  });
});

describe('the snapshot of a scrubbed epoch', () => {
  it('is the last one at or before it, never a later one', () => {
    const store = createAppStore();
    for (let e = 0; e <= 1000; e += 50) store.getState().history.push(checkpointFixture(e));
    store.setState({ snapshotEpochs: [0, 600, 750, 1000] });
    const at = (viewEpoch: number | null) => viewedSnapshot({ ...store.getState(), viewEpoch });
    // 650 is nearer to 600 but 700 is nearer to 750: both show 600.
    expect(at(650)).toBe(600);
    expect(at(700)).toBe(600);
    expect(at(750)).toBe(750);
    expect(at(999)).toBe(750);
    expect(at(null)).toBe(1000);
    store.setState({ snapshotEpochs: [100, 200] });
    expect(at(50)).toBe(100);
  });
});

describe("the guide's subject", () => {
  it('is "Your run" for a run of your own and "The recorded run" for a recording', () => {
    const store = createAppStore();
    for (let e = 0; e <= 500; e += 50) store.getState().history.push(checkpointFixture(e, { trainAcc: e >= 200 ? 1 : 0.5 }));
    store.setState({ applied: presetConfig('mainline'), run: { runId: 1, numParams: 1, nTrain: 3830, nTest: 8939 } });
    expect(runFacts(store.getState())!.run).toBe('Your run');
    store.setState({ recording: { key: 'reference', name: 'Reference' } });
    expect(runFacts(store.getState())!.run).toBe('The recorded run');
  });
});

describe('play speeds (#21)', () => {
  it('are durations of the whole run, whatever its number of snapshots', async () => {
    const { PLAY_DURATIONS, playFrameMs } = await import('../../src/ui/time/playback.ts');
    expect([...PLAY_DURATIONS]).toEqual([120, 30, 8]);
    for (const stops of [20, 80, 161]) for (const d of PLAY_DURATIONS) expect(playFrameMs(d, stops) * (stops - 1)).toBeCloseTo(1000 * d, 6);
    expect(playFrameMs(8, 1)).toBe(8000);
  });
});

describe('live-change marks (#21)', () => {
  it('stack the labels of changes close together instead of overlaying them', async () => {
    const { liveChangeMarks } = await import('../../src/ui/charts/series.ts');
    const store = createAppStore();
    [1, 0.5, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 3].forEach((weightDecay, i) => store.getState().history.push(checkpointFixture(i * 100, { weightDecay })));
    const marks = liveChangeMarks(store.getState()).annotations!;
    expect(marks.map((a) => a.text)).toEqual(['λ 0.5', 'λ 0.2', 'λ 0.1', 'λ 3']);
    const ys = marks.map((a) => a.y);
    // The first three are 100 epochs apart of 1,900: each on its own row; the last is far: the top row again.
    expect(new Set(ys.slice(0, 3)).size).toBe(3);
    expect(ys[3]).toBe(1);
  });
});
