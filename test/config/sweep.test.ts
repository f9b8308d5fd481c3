import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { decodeQuery } from '../../src/config/url.ts';
import { SWEEP_PRESETS, decodeSweep, encodeSweep, expandSweep, shardPoints } from '../../src/config/sweep.ts';

describe('sweep codec', () => {
  it('decodes the issue example: λ values by five seeds, seeds as a range', () => {
    const { spec, issues } = decodeSweep('wd:0,0.1,0.3,1,3;seed:0-4');
    expect(issues).toEqual([]);
    expect(spec!.axes).toEqual([
      { field: 'weightDecay', values: [0, 0.1, 0.3, 1, 3] },
      { field: 'seed', values: [0, 1, 2, 3, 4] },
    ]);
    expect(encodeSweep(spec!)).toBe('wd:0,0.1,0.3,1,3;seed:0-4');
  });

  it('sweeps the knobs beyond the paper: ⊥Grad by λ, the loss, the weight norm', () => {
    const { spec, issues } = decodeSweep('og:0,1;wd:0,1');
    expect(issues).toEqual([]);
    expect(expandSweep({ ...DEFAULT_CONFIG }, spec!).points.map((p) => [p.config.orthoGrad, p.config.weightDecay])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]]);
    expect(decodeSweep('loss:softmax,stablemax').spec!.axes[0]).toEqual({ field: 'loss', values: ['softmax', 'stablemax'] });
    expect(decodeSweep('norm:0,30;initscale:1,3').issues).toEqual([]);
    expect(decodeSweep('og:0,2').issues[0].message).toMatch(/og/);
  });

  it('round-trips any valid sweep of one or two keys', () => {
    const axis = fc.oneof(
      fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }).map((v) => ({ key: 'seed', values: v })),
      fc.uniqueArray(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 5 }).map((v) => ({ key: 'wd', values: v.map((x) => x + 0) })),
      fc.uniqueArray(fc.constantFrom('add', 'sub', 'poly', 'rand'), { minLength: 1, maxLength: 4 }).map((v) => ({ key: 'task', values: v })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(axis, { minLength: 1, maxLength: 2, selector: (a) => a.key }), (axes) => {
        const text = axes.map((a) => `${a.key}:${a.values.join(',')}`).join(';');
        const first = decodeSweep(text);
        expect(first.issues).toEqual([]);
        const again = decodeSweep(encodeSweep(first.spec!));
        expect(again.spec).toEqual(first.spec);
        // The values themselves survive, in order.
        expect(first.spec!.axes.map((a) => a.values)).toEqual(axes.map((a) => a.values));
      }),
    );
  });

  it.each([
    ['', /empty sweep/],
    ['wd', /not KEY:V1,V2/],
    ['zz:1,2', /unknown key "zz"/],
    ['wd:0,abc', /wd: weight decay λ must be a number, got "abc"/],
    ['wd:0,-1', /must be in \[0, 100\], got -1/],
    ['frac:0,0.5', /training fraction must be in \(0, 1\), got 0/],
    ['p:113,114', /114 is not prime/],
    ['seed:1.5', /whole number/],
    ['seed:5-2', /range 5-2 must count up/],
    ['task:add,mul', /must be one of add, sub, poly, rand, got "mul"/],
    ['wd:1,,2', /empty value/],
    ['wd:1,1', /appears twice/],
    ['epochs:10,20', /cannot vary epochs/],
    ['wd:1;wd:2', /varied twice/],
    ['wd:1;seed:0;lr:0.1', /at most 2 keys/],
    ['seed:0-99;wd:0,1,2', /300 runs; at most 256/],
  ])('names the bad part of "%s"', (text, message) => {
    const { spec, issues } = decodeSweep(text);
    expect(spec).toBeNull();
    expect(issues.map((i) => i.message).join('\n')).toMatch(message);
    for (const i of issues) expect(i.key).toBe('sweep');
  });

  it('lives in the URL as sweep=, a bad one named and the page left with a single run', () => {
    const ok = decodeQuery('p=23&sweep=wd:0,1;seed:0-4');
    expect(ok.issues).toEqual([]);
    expect(ok.sweep?.axes.map((a) => a.values.length)).toEqual([2, 5]);
    const bad = decodeQuery('sweep=wd:0,x');
    expect(bad.sweep).toBeNull();
    expect(bad.issues).toEqual([{ key: 'sweep', message: 'sweep: wd: weight decay λ must be a number, got "x"', fallback: 'a single run' }]);
    expect(decodeQuery('p=23').sweep).toBeNull();
  });

  it('expands the grid, first key outermost, and names inconsistent points', () => {
    const { spec } = decodeSweep('wd:0,1;seed:3-5');
    const { points, issues } = expandSweep({ ...DEFAULT_CONFIG }, spec!);
    expect(issues).toEqual([]);
    expect(points.map((p) => [p.config.weightDecay, p.config.seed])).toEqual([[0, 3], [0, 4], [0, 5], [1, 3], [1, 4], [1, 5]]);
    expect(points.map((p) => p.at)).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    const bad = expandSweep({ ...DEFAULT_CONFIG }, decodeSweep('heads:3,4').spec!);
    expect(bad.issues[0].message).toMatch(/heads=3: d_model \(128\) must be divisible by heads \(3\)/);
  });

  it('shards are disjoint and together the whole sweep', () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    for (const n of [1, 2, 3, 7, 30]) {
      const parts = Array.from({ length: n }, (_, i) => shardPoints(items, i, n));
      expect(parts.flat().sort((a, b) => a - b)).toEqual(items);
      expect(new Set(parts.flat()).size).toBe(items.length);
    }
  });

  it('every preset of the paper decodes and expands without a problem', () => {
    for (const [name, p] of Object.entries(SWEEP_PRESETS)) {
      const { spec, issues } = decodeSweep(p.sweep);
      expect(issues, name).toEqual([]);
      expect(expandSweep(presetConfig(p.preset), spec!).issues, name).toEqual([]);
    }
  });
});
