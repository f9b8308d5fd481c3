import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from '../../src/run/extent.ts';

describe('maxOf / minOf', () => {
  it('take any number of values, where Math.max(...xs) throws past the argument limit (issue 24)', () => {
    const xs = Array.from({ length: 400_000 }, (_, i) => Math.sin(i) * i);
    expect(() => Math.max(...xs)).toThrow(RangeError);
    let hi = -Infinity;
    let lo = Infinity;
    for (const x of xs) (hi = x > hi ? x : hi), (lo = x < lo ? x : lo);
    expect(maxOf(xs)).toBe(hi);
    expect(minOf(xs)).toBe(lo);
  });

  it('skip NaN, and give the fallback when nothing is left', () => {
    expect(maxOf([NaN, 2, NaN, -1])).toBe(2);
    expect(minOf(new Float32Array([3, NaN, -4]))).toBe(-4);
    expect(maxOf([], 0)).toBe(0);
    expect(minOf([NaN], 7)).toBe(7);
    expect(maxOf(new Set([1, 5, 3]))).toBe(5);
  });
});
