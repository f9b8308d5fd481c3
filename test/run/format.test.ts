import { describe, expect, it } from 'vitest';
import { formatDuration, formatPercent, formatRate, formatValue } from '../../src/run/format.ts';
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

  it('formats durations, rates and percentages', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(600)).toBe('10 min');
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
});
