/**
 * A Plotly chart that follows the store: it subscribes to what it draws outside React and redraws
 * with Plotly.react at most every MIN_REDRAW_MS, through the shared frame-budgeted queue, and
 * only while it is on screen — never a React render per checkpoint. During Play it redraws at once.
 */
import { useEffect, useRef } from 'react';
import type * as PlotlyTypes from 'plotly.js';
import { useAppStore, type AppState } from '../../store/store.ts';
import { fitLayout, initialFit, measureFit, withMinFont, type FitState } from './fit.ts';
import { BASE_LAYOUT, PLOT_CONFIG, loadPlotly, type Plotly } from './plotly.ts';
import { attachChartMenu } from './chart-menu.ts';
import { cancelDraw, requestDraw } from './scheduler.ts';

/** Redraws faster than this add nothing the eye can follow while training (curves move slowly). */
export const MIN_REDRAW_MS = 500;

export interface PlotSpec {
  data: Partial<PlotlyTypes.PlotData>[];
  layout: Partial<PlotlyTypes.Layout>;
}

/** What a chart draws from; a change of any element triggers a redraw. */
export type Watch = (s: AppState) => readonly unknown[];

const defaultWatch: Watch = (s) => [s.historyVersion];

/** The browser keeps every performance.measure: a day of training would pile up ~400k draws' entries. */
const MAX_DRAW_MEASURES = 5000;
let drawMeasures = 0;

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/**
 * `redrawKey`: a value owned by the component (not the store) whose change also redraws, e.g. an
 * input of the view.
 */
export function useLivePlot(
  build: (s: AppState) => PlotSpec | null,
  watch: Watch = defaultWatch,
  onClick?: (e: PlotlyTypes.PlotMouseEvent) => void,
  redrawKey?: unknown,
) {
  const ref = useRef<HTMLDivElement>(null);
  const scheduleRef = useRef<() => void>(() => undefined);
  const buildRef = useRef(build);
  buildRef.current = build;
  const clickRef = useRef(onClick);
  clickRef.current = onClick;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const key = {};
    let plotly: Plotly | null = null;
    let alive = true;
    let visible = true;
    let dirty = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastDraw = -Infinity;
    let clickBound = false;
    // Title and legend fitted to the width; corrected from what the last draw measured.
    let width = el.clientWidth;
    let fit: FitState = initialFit(width);
    let corrections = 0;
    const draw = () => {
      if (!plotly || !alive) return;
      dirty = false;
      lastDraw = performance.now();
      const spec = buildRef.current(useAppStore.getState());
      if (!spec) return;
      const start = performance.now();
      const layout = withMinFont(fitLayout(spec.data, { ...BASE_LAYOUT, ...spec.layout }, fit));
      void plotly.react(el, spec.data as PlotlyTypes.Data[], layout, PLOT_CONFIG).then(() => {
        const better = alive ? measureFit(el, fit) : null;
        if (better && corrections < 3) {
          corrections++;
          fit = better;
          requestDraw(key, draw);
        }
      });
      // Draw times are visible in the browser's performance timeline (and the frame-budget test).
      performance.measure(`draw ${el.dataset.testid ?? 'chart'}`, { start, end: performance.now() });
      if (++drawMeasures >= MAX_DRAW_MEASURES) {
        drawMeasures = 0;
        performance.clearMeasures();
      }
      attachChartMenu(el, () => plotly);
      if (!clickBound && clickRef.current) {
        clickBound = true;
        (el as unknown as { on(ev: string, fn: (e: PlotlyTypes.PlotMouseEvent) => void): void }).on('plotly_click', (e) => clickRef.current?.(e));
      }
    };
    const schedule = () => {
      dirty = true;
      if (!visible || !plotly) return;
      // Play: every chart on screen redraws in the task that stepped the playhead, so no moment of
      // the page shows two epochs (#21 item 10; Plotly.react draws synchronously).
      if (useAppStore.getState().playing) {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        cancelDraw(key);
        draw();
        return;
      }
      if (timer !== undefined) return;
      const wait = Math.max(0, MIN_REDRAW_MS - (performance.now() - lastDraw));
      timer = setTimeout(() => {
        timer = undefined;
        requestDraw(key, draw);
      }, wait);
    };
    scheduleRef.current = schedule;
    const observer = new IntersectionObserver((entries) => {
      visible = entries.some((e) => e.isIntersecting);
      if (visible && dirty) schedule();
    });
    observer.observe(el);
    const resized = new ResizeObserver(() => {
      if (Math.abs(el.clientWidth - width) < 8) return;
      width = el.clientWidth;
      fit = initialFit(width);
      corrections = 0;
      schedule();
    });
    resized.observe(el);
    loadPlotly().then(
      (p) => {
        if (!alive) return;
        plotly = p;
        schedule();
      },
      (err: unknown) => useAppStore.getState().notify('error', `The charts could not load: ${String(err)}`),
    );
    const unsubscribe = useAppStore.subscribe(watch, schedule, { equalityFn: sameList });
    return () => {
      alive = false;
      unsubscribe();
      observer.disconnect();
      resized.disconnect();
      cancelDraw(key);
      if (timer !== undefined) clearTimeout(timer);
      if (plotly) plotly.purge(el);
    };
    // watch is a module-level function per chart; charts never swap it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => scheduleRef.current(), [redrawKey]);
  return ref;
}
