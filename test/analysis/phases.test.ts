import { describe, expect, it } from 'vitest';
import { detectPhases, smooth, type PhaseCurves } from '../../src/analysis/phases.ts';

/** Piecewise-linear interpolation through (x, y) knots. */
function pw(knots: [number, number][]): (x: number) => number {
  return (x) => {
    if (x <= knots[0][0]) return knots[0][1];
    for (let i = 1; i < knots.length; i++) {
      const [x0, y0] = knots[i - 1];
      const [x1, y1] = knots[i];
      if (x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
    return knots[knots.length - 1][1];
  };
}

/** Curves shaped like the paper's Fig. 7 (mainline: phases 0–1.4k, 1.4k–9.4k, 9.4k–14k). */
function fig7(until = 20000, every = 100, noise = 0): PhaseCurves {
  const epoch: number[] = [];
  for (let e = 0; e <= until; e += every) epoch.push(e);
  let seed = 1;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed / 2147483647 - 0.5) * noise;
  };
  const logEx = pw([[0, 0.7], [1400, -3], [9400, -0.5], [12000, 1], [20000, 1.2]]);
  const logTest = pw([[0, 0.7], [1400, 1.3], [9400, 1.1], [10400, -3], [12000, -5.5], [20000, -6.5]]);
  const acc = pw([[0, 0.01], [9400, 0.05], [10600, 1], [20000, 1]]);
  const gini = pw([[0, 0.2], [9400, 0.3], [11000, 0.6], [13500, 0.9], [14500, 0.92], [20000, 0.93]]);
  return {
    epoch,
    excludedLoss: epoch.map((e) => 10 ** (logEx(e) + rnd())),
    testLoss: epoch.map((e) => 10 ** (logTest(e) + rnd())),
    testAcc: epoch.map(acc),
    giniWL: epoch.map((e) => gini(e) + rnd() * 0.01),
  };
}

describe('phase detection (§5.2)', () => {
  it('finds the three phases of Fig. 7 near 1.4k, 9.4k and 14k', () => {
    const phases = detectPhases(fig7());
    expect(phases.map((p) => p.name)).toEqual(['memorization', 'circuit formation', 'cleanup', 'stable']);
    expect(phases[0].end).toBe(1400);
    expect(Math.abs(phases[1].end! - 9400)).toBeLessThanOrEqual(400);
    expect(Math.abs(phases[2].end! - 14000)).toBeLessThanOrEqual(1000);
    expect(phases[3].end).toBeNull();
    for (const p of phases) expect(p.rule.length).toBeGreaterThan(10);
  });

  it('is robust to noise on the curves', () => {
    const phases = detectPhases(fig7(20000, 100, 0.2));
    expect(phases.map((p) => p.name)).toEqual(['memorization', 'circuit formation', 'cleanup', 'stable']);
    expect(Math.abs(phases[0].end! - 1400)).toBeLessThanOrEqual(400);
    expect(Math.abs(phases[1].end! - 9400)).toBeLessThanOrEqual(600);
  });

  it('reports only what has been confirmed so far while training', () => {
    expect(detectPhases(fig7(1000)).map((p) => [p.name, p.end])).toEqual([['memorization', null]]);
    const mid = detectPhases(fig7(6000));
    expect(mid.map((p) => p.name)).toEqual(['memorization', 'circuit formation']);
    expect(mid[1].end).toBeNull();
    const cleaning = detectPhases(fig7(11000));
    expect(cleaning.map((p) => p.name)).toEqual(['memorization', 'circuit formation', 'cleanup']);
    expect(cleaning[2].end).toBeNull();
  });

  it('never leaves memorization without a circuit (no weight decay: excluded loss keeps falling)', () => {
    const c = fig7();
    const epochs = Array.from(c.epoch);
    const flat = { ...c, excludedLoss: epochs.map((e) => 10 ** (0.7 - e / 4000)), testLoss: epochs.map(() => 20) };
    expect(detectPhases(flat).map((p) => p.name)).toEqual(['memorization']);
  });

  it('smooths on a log scale over a centred window', () => {
    expect(Array.from(smooth([1, 100, 10000], 1, true))).toEqual([1, 2, 3]);
    expect(Array.from(smooth([1, NaN, 3], 1))).toEqual([1, 2, 3]);
  });
});
