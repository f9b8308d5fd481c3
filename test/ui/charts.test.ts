/** Chart styling that must hold for every frequency and every width (issue 15, item 4). */
import { describe, expect, it } from 'vitest';
import { SIGNED } from '../../src/ui/charts/HeavyViews.tsx';
import { fitLayout, initialFit, measureFit, MIN_FONT_PX, withMinFont, wrapTitle } from '../../src/ui/plot/fit.ts';
import { FREQ_COLORS, FREQ_DASHES, freqStyle } from '../../src/ui/charts/series.ts';

/** WCAG relative luminance of an sRGB colour (the standard formula, written out here). */
function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

describe('frequency styles', () => {
  it('give every frequency of P = 113 its own colour and dash pair, whatever K is', () => {
    const pairs = new Set(Array.from({ length: 56 }, (_, i) => JSON.stringify(freqStyle(i + 1))));
    expect(pairs.size).toBe(56);
    expect(new Set(FREQ_COLORS).size).toBe(FREQ_COLORS.length);
    expect(new Set(FREQ_DASHES).size).toBe(FREQ_DASHES.length);
    // Stable: a frequency's style does not depend on which others are in K.
    expect(freqStyle(14)).toEqual(freqStyle(14));
  });
});

describe('the signed colour scale of W_L', () => {
  it('gets lighter from negative to positive, so the sign reads in greyscale', () => {
    const lum = SIGNED.map(([, c]) => luminance(c));
    for (let i = 1; i < lum.length; i++) expect(lum[i]).toBeGreaterThan(lum[i - 1] + 0.05);
    // Zero sits in the middle, a clear step from both ends.
    expect(lum[0]).toBeLessThan(0.05);
    expect(lum[lum.length - 1]).toBeGreaterThan(0.7);
  });
});

describe('titles that fit', () => {
  it('wraps at word boundaries within the width', () => {
    const lines = wrapTitle('Coefficient of cos(w_k(a+b−c)) in the logits, K = {14, 35, 41, 42, 52}', 30);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(30);
    expect(lines.join(' ')).toBe('Coefficient of cos(w_k(a+b−c)) in the logits, K = {14, 35, 41, 42, 52}');
  });

  it('reserves a band for the legend under the title', () => {
    const data = [{ name: 'train' }, { name: 'test' }];
    const narrow = fitLayout(data, { title: { text: 'Loss · restricted & excluded with K = {14, 35, 41}' } }, initialFit(330));
    const wide = fitLayout(data, { title: { text: 'Loss · restricted & excluded with K = {14, 35, 41}' } }, initialFit(900));
    expect((narrow.title as { text: string }).text).toContain('<br>');
    expect((wide.title as { text: string }).text).not.toContain('<br>');
    expect(narrow.margin!.t!).toBeGreaterThan(wide.margin!.t!);
    const noLegend = fitLayout([{ name: 'one' }], { title: { text: 'x' } }, initialFit(900));
    expect(noLegend.margin!.t!).toBeLessThan(wide.margin!.t!);
  });
});

describe('a title and the ⤓ button (#21 polish)', () => {
  const rect = (left: number, right: number, top = 0, bottom = 20) => ({ left, right, top, bottom, width: right - left, height: bottom - top });
  const chart = (titleRight: number, menu: boolean) =>
    ({
      getBoundingClientRect: () => rect(0, 480, 0, 300),
      querySelector: (sel: string) => (sel === '.gtitle' ? { getBoundingClientRect: () => rect(8, titleRight) } : sel.includes('chart-menu') && menu ? { getBoundingClientRect: () => rect(452, 478, 2, 26) } : null),
    }) as unknown as HTMLElement;

  it('wraps a title that runs under the button, and leaves one that ends before it', () => {
    const fit = initialFit(480);
    // 470 px: inside the chart, but under the button at 452–478.
    const next = measureFit(chart(470, true), fit);
    expect(next).not.toBeNull();
    expect(next!.maxChars).toBeLessThan(fit.maxChars);
    expect(measureFit(chart(440, true), fit)).toBeNull();
    // Without a button only the chart's edge counts.
    expect(measureFit(chart(470, false), fit)).toBeNull();
  });

  it('starts with lines that leave the button its room', () => {
    expect(initialFit(480).maxChars * 7).toBeLessThanOrEqual(480 - 12 - 24);
  });
});

describe('chart text on a projector (#21)', () => {
  it('raises every font size below 12 px, and leaves larger ones and the rest alone', () => {
    const layout = {
      title: { text: 't', font: { size: 14 } },
      xaxis: { tickfont: { size: 9 }, title: { text: 'b', font: { size: 10 } } },
      legend: { font: { size: 11 } },
      annotations: [{ text: 'memorization', font: { size: 10, color: '#444' }, x: 3 }],
      shapes: [{ type: 'line', x0: 1 }],
    };
    const out = withMinFont(layout);
    expect(out.title.font.size).toBe(14);
    expect(out.xaxis.tickfont.size).toBe(MIN_FONT_PX);
    expect(out.xaxis.title.font.size).toBe(MIN_FONT_PX);
    expect(out.legend.font.size).toBe(MIN_FONT_PX);
    expect(out.annotations[0]).toEqual({ text: 'memorization', font: { size: MIN_FONT_PX, color: '#444' }, x: 3 });
    expect(out.shapes).toEqual(layout.shapes);
    expect(layout.xaxis.tickfont.size).toBe(9);
  });
});
