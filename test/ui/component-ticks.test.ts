/** The logits heatmap's Fourier-component ticks (#21 polish: "const" and "cos 1" overlapped). */
import { describe, expect, it } from 'vitest';
import { componentTicks } from '../../src/ui/charts/HeavyViews.tsx';

const namesOf = (p: number) => ['const', ...Array.from({ length: p - 1 }, (_, i) => `${i % 2 === 0 ? 'cos' : 'sin'} ${Math.floor(i / 2) + 1}`)];

describe('Fourier-component ticks', () => {
  for (const p of [23, 53, 59, 113, 401]) {
    it(`P = ${p}: "const" first, then cos ticks a whole step apart, at most 9`, () => {
      const names = namesOf(p);
      const { tickvals, ticktext } = componentTicks(names);
      expect(ticktext[0]).toBe('const');
      expect(tickvals.length).toBeGreaterThanOrEqual(3);
      expect(tickvals.length).toBeLessThanOrEqual(9);
      // At 390 px a P = 113 axis is ~300 px: ≥ p/9 components between ticks keeps 12-px labels apart.
      const gaps = tickvals.slice(1).map((v, i) => v - tickvals[i]);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(Math.min(Math.floor(p / 9), 4));
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
      for (const t of ticktext.slice(1)) expect(t).toMatch(/^cos \d+$/);
      expect(tickvals.every((v) => v < p)).toBe(true);
      expect(ticktext).toEqual(tickvals.map((v) => names[v]));
    });
  }
});
