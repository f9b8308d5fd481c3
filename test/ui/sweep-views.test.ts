/**
 * The sweep views' data (src/ui/sweep/sweep-views.ts): which runs share a small multiple, their
 * mean (geometric for losses, computed by hand here), and the phase diagram's cells placed by the
 * two varied keys, with the store's summary of a run's history (src/store/sweep.ts).
 */
import { describe, expect, it } from 'vitest';
import { decodeSweep, expandSweep } from '../../src/config/sweep.ts';
import { presetConfig } from '../../src/config/presets.ts';
import { summarize } from '../../src/store/sweep.ts';
import { DARK_INK, LIGHT_INK, contrast, inkOn, meanCurve, panels, phaseGrid, sharedAxis } from '../../src/ui/sweep/sweep-views.ts';
import { checkpointFixture } from '../helpers.ts';

const spec = (text: string) => decodeSweep(text).spec!;
const runsOf = (text: string) => expandSweep(presetConfig('mainline'), spec(text)).points;
const row = (epoch: number, trainLoss: number, testLoss: number) => ({ epoch, trainLoss, testLoss, trainAcc: 0, testAcc: 0 });

describe('small multiples', () => {
  it('draws seeds together: one panel per other value, the seeds faint in it', () => {
    const s = spec('wd:0,1;seed:0-2');
    expect(sharedAxis(s)).toBe(1);
    const ps = panels(s, runsOf('wd:0,1;seed:0-2'));
    expect(ps).toEqual([
      { title: 'wd=0', runs: [0, 1, 2] },
      { title: 'wd=1', runs: [3, 4, 5] },
    ]);
    // Seeds first: still grouped by the other key.
    expect(panels(spec('seed:0-1;wd:0,1'), runsOf('seed:0-1;wd:0,1')).map((p) => p.runs)).toEqual([[0, 2], [1, 3]]);
  });

  it('five seeds share one panel; one other key gives each run its own', () => {
    expect(panels(spec('seed:0-4'), runsOf('seed:0-4'))).toEqual([{ title: 'all 5 seed values', runs: [0, 1, 2, 3, 4] }]);
    expect(panels(spec('wd:0,1,3'), runsOf('wd:0,1,3')).map((p) => p.runs)).toEqual([[0], [1], [2]]);
  });

  it('the mean: geometric for losses, arithmetic otherwise, over the checkpoints all runs reached', () => {
    const a = [row(0, 1, 4), row(10, 0.01, 1)];
    const b = [row(0, 4, 4), row(10, 1, 0.25), row(20, 0.5, 0.5)];
    expect(meanCurve([a, b], 'trainLoss', true)).toEqual({ epoch: [0, 10], value: [expect.closeTo(2, 12), expect.closeTo(0.1, 12)] });
    expect(meanCurve([a, b], 'testLoss', false).value).toEqual([4, 0.625]);
    expect(meanCurve([], 'testLoss', false)).toEqual({ epoch: [], value: [] });
  });
});

describe('phase diagram', () => {
  it('places each run by its two keys, fills finished ones and colours the grok epoch', () => {
    const s = spec('wd:0,1;seed:0-1');
    const runs = runsOf('wd:0,1;seed:0-1').map((p) => ({ ...p, summary: null as ReturnType<typeof summarize> | null }));
    runs[2].summary = { grokEpoch: 300, phase: 'cleanup', finalTestLoss: 1e-3, finalTestAcc: 1, lossBelowEpoch: null };
    runs[3].summary = { grokEpoch: 900, phase: 'stable', finalTestLoss: 1e-7, finalTestAcc: 1, lossBelowEpoch: 1500 };
    runs[0].summary = { grokEpoch: null, phase: 'memorization', finalTestLoss: 3, finalTestAcc: 0.1, lossBelowEpoch: null };
    const g = phaseGrid(s, runs, 'grok');
    expect(g.rows).toEqual(['0', '1']);
    expect(g.cols).toEqual(['0', '1']);
    expect(g.cells.map((r) => r.map((c) => c.index))).toEqual([[0, 1], [2, 3]]);
    expect(g.cells.map((r) => r.map((c) => c.text))).toEqual([['not grokked', '…'], ['300', '900']]);
    // Earliest grok lightest, latest darkest.
    expect(g.cells[1][0].color).toBe('rgb(255,247,188)');
    expect(g.cells[1][1].color).toBe('rgb(8,48,107)');
    expect(phaseGrid(s, runs, 'phase').cells[1].map((c) => c.text)).toEqual(['cleanup', 'stable']);
    expect(phaseGrid(s, runs, 'loss').cells[1].map((c) => c.text)).toEqual(['1.0e-3', '1.0e-7']);
    expect(phaseGrid(s, runs, 'fig21').cells[1].map((c) => c.text)).toEqual(['not reached', '1,500']);
  });

  it("writes each cell's text in the ink that reads on its colour (WCAG AA: contrast ≥ 4.5 across the ramp and the phases)", () => {
    const s = spec('frac:0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9');
    const runs = runsOf('frac:0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9').map((p, i) => ({ ...p, summary: { grokEpoch: 100 * (i + 1), phase: (['memorization', 'circuit formation', 'cleanup', 'stable'] as const)[i % 4], finalTestLoss: 10 ** -i, finalTestAcc: 1, lossBelowEpoch: null } }));
    for (const metric of ['grok', 'loss', 'phase', 'fig21'] as const) {
      for (const cell of phaseGrid(s, runs, metric).cells.flat()) expect(contrast(cell.ink, cell.color)).toBeGreaterThanOrEqual(4.5);
    }
    // The ramp's dark end (latest grok) takes light text, its light end dark text.
    const cells = phaseGrid(s, runs, 'grok').cells.flat();
    expect(cells[0].ink).toBe(DARK_INK);
    expect(cells.at(-1)!.ink).toBe(LIGHT_INK);
    expect(inkOn('#ffffff')).toBe(DARK_INK);
    expect(inkOn('rgb(0,0,0)')).toBe(LIGHT_INK);
  });

  it('one key: one column', () => {
    const g = phaseGrid(spec('frac:0.1,0.5'), runsOf('frac:0.1,0.5').map((p) => ({ ...p, summary: null })), 'grok');
    expect(g.cols).toEqual(['']);
    expect(g.cells.map((r) => r.length)).toEqual([1, 1]);
  });

  it('summarize: the first epoch at 99% test accuracy, with both losses < 1e-6, and the final test loss', () => {
    const h = [0, 100, 200, 300].map((e, i) => checkpointFixture(e, { testAcc: [0.1, 0.5, 0.991, 1][i], testLoss: [4, 2, 9e-7, 5e-7][i], trainLoss: [4, 5e-7, 2e-6, 1e-7][i] }));
    const s = summarize(h);
    expect(s.grokEpoch).toBe(200);
    // Epoch 100: train below but test not; epoch 200: test below but train not; epoch 300: both.
    expect(s.lossBelowEpoch).toBe(300);
    expect(s.finalTestLoss).toBe(5e-7);
    expect(s.finalTestAcc).toBe(1);
  });
});
