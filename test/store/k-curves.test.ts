import { describe, expect, it } from 'vitest';
import { History } from '../../src/store/history.ts';
import { KCurveCache, keyFreqsKey } from '../../src/store/k-curves.ts';
import { checkpointFixture } from '../helpers.ts';

const k = (version: number, active: number[]) => ({ version, active, live: active, pinned: false });

describe('KCurveCache', () => {
  it('keys a K set by its members, not their order', () => {
    expect(keyFreqsKey([41, 14, 35])).toBe(keyFreqsKey([14, 35, 41]));
    expect(keyFreqsKey([14, 35])).not.toBe(keyFreqsKey([14, 35, 41]));
  });

  it('brings back every row measured with a K when the curves return to it', () => {
    const h = new History();
    for (let e = 0; e < 10; e++) h.push(checkpointFixture(e * 10, { excludedLoss: 100 + e, restrictedLoss: e, keyFreqsVersion: 1 }));
    const cache = new KCurveCache();
    const rule = k(1, [14, 35, 41]);
    const pinned = k(2, [14]);
    expect(cache.switchTo(h, rule, pinned)).toBe(0);
    // K = {14} re-measured only at two snapshots.
    h.applyRecomputed({ epoch: 0, restrictedLoss: -1, restrictedAcc: 0, excludedLoss: -1, excludedLossPerFreq: [], logitFVE: 0 }, 2);
    h.applyRecomputed({ epoch: 50, restrictedLoss: -5, restrictedAcc: 0, excludedLoss: -5, excludedLossPerFreq: [], logitFVE: 0 }, 2);
    const back = k(3, [41, 35, 14]);
    expect(cache.switchTo(h, pinned, back)).toBe(10);
    expect(Array.from(h.column('keyFreqsVersion'))).toEqual(new Array(10).fill(3));
    expect(Array.from(h.column('excludedLoss'))).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    // And K = {14}'s two rows come back when pinned again.
    expect(cache.switchTo(h, back, k(4, [14]))).toBe(2);
    expect(h.at(5).excludedLoss).toBe(-5);
    expect(h.at(5).keyFreqsVersion).toBe(4);
  });

  it('does nothing when only the rule’s opinion changed (same version)', () => {
    const h = new History();
    h.push(checkpointFixture(0, { keyFreqsVersion: 1 }));
    const cache = new KCurveCache();
    expect(cache.switchTo(h, k(1, [1]), { ...k(1, [1]), live: [2] })).toBe(0);
  });
});
