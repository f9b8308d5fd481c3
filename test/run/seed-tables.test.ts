/** Tables 3–6 over a sweep's runs (src/run/seed-tables.ts): coverage, skipped runs and their reasons, means and sds. */
import { describe, expect, it } from 'vitest';
import { seedTables, type RunFinal } from '../../src/run/seed-tables.ts';

function run(point: string, over: Partial<RunFinal>): RunFinal {
  return {
    point,
    epoch: 100,
    testLoss: 0.01,
    testAcc: 1,
    allLoss: 0.005,
    allAcc: 1,
    keyFreqs: [3, 5],
    giniWE: 0.5,
    giniWL: 0.6,
    logitFVE: 0.9,
    neuronsExplained: 0.8,
    directionFVE: { 3: { cos: 0.95, sin: 0.97 }, 5: { cos: 0.91, sin: 0.99 } },
    lossOnlyKeyFreqs: 0.001,
    lossKeyFreqsRemoved: 4,
    lossSkipAblated: 0.02,
    accSkipAblated: 0.99,
    ...over,
  };
}

describe('seedTables', () => {
  const runs = [
    run('seed=0', { lossSkipAblated: 0.01, accSkipAblated: 1 }),
    run('seed=1', { testAcc: 0.5, lossSkipAblated: 99 }),
    run('seed=2', { lossSkipAblated: 0.03, accSkipAblated: 0.98, keyFreqs: [3], directionFVE: { 3: { cos: 0.8, sin: 0.9 } } }),
    run('seed=3', { keyFreqs: [], directionFVE: {} }),
  ];
  const t = seedTables(runs, 5, [{ point: 'seed=4', why: 'no final weights' }]);

  it('Table 5 covers every run with weights; Tables 3, 4 and 6 only those that grokked, naming the others and why', () => {
    expect(t.table5.rows.map((r) => r.point)).toEqual(['seed=0', 'seed=1', 'seed=2', 'seed=3']);
    expect(t.table5.covers).toBe("4 of the sweep's 5 runs, each at its final weights; left out: seed=4 (no final weights)");
    for (const table of [t.table3, t.table4, t.table6]) {
      expect(table.rows.map((r) => r.point)).toEqual(['seed=0', 'seed=2']);
      expect(table.skipped).toEqual([
        { point: 'seed=4', why: 'no final weights' },
        { point: 'seed=1', why: 'did not grok: final test accuracy 50.0% < 99%' },
        { point: 'seed=3', why: 'no key frequencies' },
      ]);
      expect(table.covers).toMatch(/^2 of the sweep's 5 runs, those that grokked.*left out: seed=4 \(no final weights\), seed=1 \(did not grok/);
    }
  });

  it('Table 6 is the mean and sample sd of the covered runs; Table 3 lists each key frequency and the smallest fit', () => {
    expect(t.table6.summary.lossSkipAblated.mean).toBeCloseTo(0.02, 12);
    expect(t.table6.summary.lossSkipAblated.sd).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(t.table6.summary.accSkipAblated.mean).toBeCloseTo(0.99, 12);
    expect(t.table3.rows[0].fits).toEqual([
      { k: 3, cos: 0.95, sin: 0.97 },
      { k: 5, cos: 0.91, sin: 0.99 },
    ]);
    expect(t.table3.summary.min).toBe(0.8);
    expect(t.table3.summary.mean).toBeCloseTo((0.95 + 0.97 + 0.91 + 0.99 + 0.8 + 0.9) / 6, 12);
    expect(t.table4.summary.lossKeyFreqsRemoved).toEqual({ mean: 4, sd: 0 });
    // One run: the sd is undefined, not 0.
    expect(seedTables([runs[0]], 1, []).table6.summary.lossSkipAblated.sd).toBeNaN();
  });
});
