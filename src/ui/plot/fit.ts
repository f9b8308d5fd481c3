/**
 * Titles and legends that fit the chart's width: the title wraps onto lines that fit, the legend
 * sits in its own band between the title and the plot, and both are measured after each draw; when
 * the title is wider than the chart or the legend reaches into the title, the next draw corrects
 * it. So no legend covers a title, on a projector or a phone.
 */
import type * as PlotlyTypes from 'plotly.js';

export const TITLE_LINE_PX = 17;
/** Space under the title and above the legend. */
const GAP_PX = 6;
/** Plotly shifts a multi-line title up by about a line (measured: 12–13 px at 13–14 px). */
const MULTILINE_PAD_PX = 18;
const SINGLE_LINE_PAD_PX = 8;

/** What a chart learned about its own size from its last draw. */
export interface FitState {
  /** Characters per title line. */
  maxChars: number;
  /** Height of the legend band (one row to start with). */
  legendPx: number;
}

/** The chart's ⤓ export button (24 px at the top right, chart-menu.ts) and a gap: no title runs under it. */
export const MENU_PX = 30;

export const initialFit = (width: number): FitState => ({ maxChars: Math.max(16, Math.floor((width - 12 - MENU_PX) / 7)), legendPx: 22 });

/** Breaks text into lines of at most `maxChars`, at ' · ', ', ' or spaces (never inside a word). */
export function wrapTitle(text: string, maxChars: number): string[] {
  const words = text.replace(/<br>/g, ' ').split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (next.length > maxChars && line) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

function titleText(layout: Partial<PlotlyTypes.Layout>): string | null {
  const t = layout.title;
  if (!t) return null;
  return typeof t === 'string' ? t : (t.text ?? null);
}

function hasLegend(data: Partial<PlotlyTypes.PlotData>[], layout: Partial<PlotlyTypes.Layout>): boolean {
  if (layout.showlegend === false) return false;
  const shown = data.filter((d) => d.showlegend !== false && d.type !== 'heatmap' && d.name);
  return layout.showlegend === true || shown.length > 1;
}

/** The layout with its title wrapped and the top margin holding title and legend bands. */
export function fitLayout(data: Partial<PlotlyTypes.PlotData>[], layout: Partial<PlotlyTypes.Layout>, fit: FitState): Partial<PlotlyTypes.Layout> {
  const text = titleText(layout);
  if (text === null) return layout;
  const lines = wrapTitle(text, fit.maxChars);
  const old = typeof layout.title === 'object' ? layout.title : {};
  const pad = lines.length > 1 ? MULTILINE_PAD_PX : SINGLE_LINE_PAD_PX;
  const titleBand = pad + lines.length * TITLE_LINE_PX - (lines.length > 1 ? 12 : 3) + GAP_PX;
  const legend = hasLegend(data, layout);
  // Heatmap grids put their subplot titles above each plot: they need a little more room.
  const extra = Math.max(0, (layout.margin?.t ?? 36) - 36);
  return {
    ...layout,
    title: { ...old, text: lines.join('<br>'), x: 0, xanchor: 'left', yref: 'container', y: 1, yanchor: 'top', pad: { t: pad } },
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1, yanchor: 'bottom', yref: 'paper', font: { size: 12 }, ...layout.legend },
    margin: { l: 56, r: 16, b: 44, ...layout.margin, t: titleBand + (legend ? fit.legendPx : 0) + extra + 4 },
  };
}

/**
 * Reads the drawn title and legend; returns a corrected fit when the title is wider than the chart
 * or the legend reaches into the title, else null.
 */
export function measureFit(el: HTMLElement, fit: FitState): FitState | null {
  const box = el.getBoundingClientRect();
  const title = el.querySelector('.gtitle')?.getBoundingClientRect();
  const legend = el.querySelector('.legend')?.getBoundingClientRect();
  let next: FitState | null = null;
  // The title ends before the ⤓ button (it touched it on the loss chart, #21 polish), or the chart's edge.
  const menu = el.querySelector(':scope > .chart-menu > summary')?.getBoundingClientRect();
  const limit = menu && menu.width > 0 ? menu.left - 4 : box.right - 4;
  if (title && title.width > 0 && title.right > limit && fit.maxChars > 12) {
    next = { ...fit, maxChars: Math.max(12, Math.floor((fit.maxChars * (limit - box.left - 8)) / (title.right - box.left))) };
  }
  if (title && legend && legend.height > 0 && legend.top < title.bottom + 2 && legend.bottom > title.top && legend.left < title.right && legend.right > title.left) {
    next = { ...(next ?? fit), legendPx: Math.ceil(legend.height + 6) };
  }
  return next;
}

/** Chart text never below this (px): readable from the back of a room on a 1080p projector. */
export const MIN_FONT_PX = 12;

/** The layout with every font size (titles, ticks, legends, annotations) raised to at least `min`. */
export function withMinFont<T>(layout: T, min = MIN_FONT_PX): T {
  const walk = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, ''));
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
    if ((key === 'font' || key === 'tickfont') && typeof out.size === 'number' && out.size < min) out.size = min;
    return out;
  };
  return walk(layout, '') as T;
}
