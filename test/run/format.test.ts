import { describe, expect, it } from 'vitest';
import { formatDuration, formatPercent, formatRate, formatValue, runFileName } from '../../src/run/format.ts';
import { WEIGHT_DECAY_STOPS, nearestStop } from '../../src/ui/controls/weight-decay-stops.ts';

describe('formatting', () => {
  it('formats values with 3 significant digits, exponents when tiny', () => {
    expect(formatValue(4.7361)).toBe('4.74');
    expect(formatValue(0.5)).toBe('0.5');
    expect(formatValue(2.4e-7)).toBe('2.4e-7');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(12345)).toBe('1.23e+4');
  });

  it('keeps the zeros of an integer part: 100 is "100", not "1" (#21)', () => {
    expect(formatValue(100)).toBe('100');
    expect(formatValue(250)).toBe('250');
    expect(formatValue(960)).toBe('960');
    expect(formatValue(10)).toBe('10');
    expect(formatValue(-100)).toBe('-100');
    expect(formatValue(2.5)).toBe('2.5');
    expect(formatValue(1e5)).toBe('1e+5');
    expect(formatValue(1.5e-7)).toBe('1.5e-7');
  });

  /** The place value of the last digit printed: "250" → 1, "2.5" → 0.1, "1.5e+5" → 1e4. */
  function lastDigitUnit(s: string): number {
    const [mantissa, exp = '0'] = s.split('e');
    const decimals = mantissa.includes('.') ? mantissa.split('.')[1].length : 0;
    return 10 ** (Number(exp) - decimals);
  }

  it('prints every x in ±1e-9…1e9 so that it parses back within half a unit of its last printed digit (#21)', () => {
    let seed = 21;
    const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const xs: number[] = [];
    for (let e = -9; e <= 9; e++) for (const m of [1, 1.5, 2.5, 9.6, 9.99, 9.996, 9.9996]) xs.push(m * 10 ** e);
    for (let i = 0; i < 5000; i++) xs.push(10 ** (-9 + 18 * uniform()));
    for (const magnitude of xs) {
      for (const x of [magnitude, -magnitude]) {
        const s = formatValue(x);
        expect(s, `formatValue(${x})`).toMatch(/^-?\d+(\.\d+)?(e[+-]\d+)?$/);
        const back = Number(s);
        // 1e-12 relative slack: a binary double is not exactly its decimal digits
        expect(Math.abs(back - x), `formatValue(${x}) = "${s}"`).toBeLessThanOrEqual(lastDigitUnit(s) / 2 + 1e-12 * Math.abs(x));
      }
    }
  });

  it('formats durations, rates and percentages', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(600)).toBe('10 min');
    // 101 s is not "2 min" (#21)
    expect(formatDuration(101)).toBe('1 min 41 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(599.6)).toBe('10 min');
    expect(formatDuration(3 * 3600)).toBe('3.0 h');
    expect(formatDuration(NaN)).toBe('–');
    expect(formatRate(312.4)).toBe('312');
    expect(formatRate(4.27)).toBe('4.3');
    expect(formatPercent(0.5)).toBe('50.0%');
    expect(formatPercent(1)).toBe('100%');
  });

  it('has a weight-decay scale from 0 over round log steps', () => {
    expect(WEIGHT_DECAY_STOPS[0]).toBe(0);
    expect(WEIGHT_DECAY_STOPS).toContain(1);
    expect(WEIGHT_DECAY_STOPS).toContain(0.3);
    expect(WEIGHT_DECAY_STOPS).toContain(5);
    for (let i = 2; i < WEIGHT_DECAY_STOPS.length; i++) expect(WEIGHT_DECAY_STOPS[i]).toBeGreaterThan(WEIGHT_DECAY_STOPS[i - 1]);
    expect(WEIGHT_DECAY_STOPS[nearestStop(1)]).toBe(1);
    expect(WEIGHT_DECAY_STOPS[nearestStop(0)]).toBe(0);
    expect(WEIGHT_DECAY_STOPS[nearestStop(0.7)]).toBe(0.5);
    expect(WEIGHT_DECAY_STOPS[nearestStop(0.8)]).toBe(1);
  });

  it('names a run file short and clean (#21)', () => {
    expect(runFileName('Reference: mainline (P = 113, 30% data, λ = 1), seed 0', { p: 113, seed: 0 }, 16_000)).toBe('reference-p113-seed0-e16000.grokrun.gz');
    expect(runFileName('P=113, λ=1, seed 0 · Dec 3, 2026, 2:10 PM', { p: 113, seed: 0 }, 1234)).toBe('run-p113-seed0-e1234.grokrun.gz');
    expect(runFileName('tl162.pth', { p: 23, seed: 5 }, 30)).toBe('tl162-pth-p23-seed5-e30.grokrun.gz');
    expect(runFileName('', { p: 23, seed: 5 }, 30)).toBe('run-p23-seed5-e30.grokrun.gz');
  });
});
