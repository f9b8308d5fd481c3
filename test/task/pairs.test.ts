import { describe, expect, it } from 'vitest';
import { labelTable, makeDataset, splitFromIndices, splitPairs } from '../../src/task/pairs.ts';
import { Rng, mulberry32, streamSeed } from '../../src/random/rng.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';

describe('PRNG', () => {
  it('mulberry32 matches its reference outputs', () => {
    // First outputs of the public-domain reference implementation for seed 0 / 42.
    const a = mulberry32(0);
    expect([a(), a(), a()]).toEqual([1144304738, 1416247, 958946056]);
    const b = mulberry32(42);
    expect(b()).toBe(2581720956);
  });

  it('gives independent, stable streams per name', () => {
    expect(streamSeed(0, 'split')).toBe(streamSeed(0, 'split'));
    expect(streamSeed(0, 'split')).not.toBe(streamSeed(0, 'init'));
    expect(streamSeed(0, 'split')).not.toBe(streamSeed(1, 'split'));
  });

  it('draws normals with mean 0 and variance 1', () => {
    const rng = new Rng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01);
  });
});

describe('split', () => {
  it('is a partition of all P² pairs with floor(frac·P²) for training', () => {
    const { train, test } = splitPairs(113, 0.3, 0);
    expect(train.length).toBe(Math.floor(0.3 * 113 * 113));
    expect(train.length + test.length).toBe(113 * 113);
    const all = new Set([...train, ...test]);
    expect(all.size).toBe(113 * 113);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(113 * 113 - 1);
  });

  it('is stable per seed and differs across seeds', () => {
    const a = splitPairs(53, 0.3, 5);
    const b = splitPairs(53, 0.3, 5);
    const c = splitPairs(53, 0.3, 6);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.train)).not.toEqual(Array.from(c.train));
  });

  it('returns sorted index lists', () => {
    const { train, test } = splitPairs(31, 0.4, 1);
    for (const xs of [train, test]) for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
  });

  it('accepts explicit train indices and checks them', () => {
    const { train, test } = splitFromIndices(3, [8, 0, 4]);
    expect(Array.from(train)).toEqual([0, 4, 8]);
    expect(Array.from(test)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(() => splitFromIndices(3, [9])).toThrow(/outside \[0, 9\)/);
    expect(() => splitFromIndices(3, [1, 1])).toThrow(/twice/);
    expect(() => splitFromIndices(3, [])).toThrow(/non-empty/);
    expect(() => splitFromIndices(3, [1.5])).toThrow(/outside/);
  });
});

describe('tasks', () => {
  it('labels every pair by its task', () => {
    const p = 7;
    const add = labelTable('add', p, 0);
    const sub = labelTable('sub', p, 0);
    const poly = labelTable('poly', p, 0);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        expect(add[a * p + b]).toBe((a + b) % p);
        expect(sub[a * p + b]).toBe((((a - b) % p) + p) % p);
        expect(poly[a * p + b]).toBe((a * a + a * b + b * b) % p);
      }
    }
  });

  it('makes a fixed random table per seed', () => {
    const r0 = labelTable('rand', 11, 0);
    expect(Array.from(labelTable('rand', 11, 0))).toEqual(Array.from(r0));
    expect(Array.from(labelTable('rand', 11, 1))).not.toEqual(Array.from(r0));
    expect(Math.max(...r0)).toBeLessThan(11);
    expect(new Set(r0).size).toBeGreaterThan(5);
  });

  it('builds the dataset of a config', () => {
    const ds = makeDataset({ ...DEFAULT_CONFIG, p: 13, frac: 0.5 });
    expect(ds.train.length).toBe(84);
    expect(ds.labels.length).toBe(169);
  });
});
