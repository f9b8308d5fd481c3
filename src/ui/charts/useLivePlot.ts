/**
 * A Plotly chart that follows the store: it subscribes to `historyVersion` outside React and
 * redraws with Plotly.react at most every MIN_REDRAW_MS, on an animation frame — never a React
 * render per checkpoint.
 */
import { useEffect, useRef } from 'react';
import type * as PlotlyTypes from 'plotly.js';
import { useAppStore, type AppState } from '../../store/store.ts';
import { BASE_LAYOUT, PLOT_CONFIG, loadPlotly, type Plotly } from './plotly.ts';

/** Redraws faster than this add nothing the eye can follow while training. */
export const MIN_REDRAW_MS = 200;

export interface PlotSpec {
  data: Partial<PlotlyTypes.PlotData>[];
  layout: Partial<PlotlyTypes.Layout>;
}

export function useLivePlot(build: (s: AppState) => PlotSpec) {
  const ref = useRef<HTMLDivElement>(null);
  const buildRef = useRef(build);
  buildRef.current = build;
  useEffect(() => {
    let plotly: Plotly | null = null;
    let alive = true;
    let raf = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastDraw = -Infinity;
    const draw = () => {
      raf = 0;
      const el = ref.current;
      if (!plotly || !el || !alive) return;
      const { data, layout } = buildRef.current(useAppStore.getState());
      void plotly.react(el, data as PlotlyTypes.Data[], { ...BASE_LAYOUT, ...layout }, PLOT_CONFIG);
      lastDraw = performance.now();
    };
    const schedule = () => {
      if (raf || timer !== undefined) return;
      const wait = Math.max(0, MIN_REDRAW_MS - (performance.now() - lastDraw));
      timer = setTimeout(() => {
        timer = undefined;
        raf = requestAnimationFrame(draw);
      }, wait);
    };
    loadPlotly().then(
      (p) => {
        if (!alive) return;
        plotly = p;
        schedule();
      },
      (err: unknown) => useAppStore.getState().notify('error', `The charts could not load: ${String(err)}`),
    );
    const unsubscribe = useAppStore.subscribe((s) => s.historyVersion, schedule);
    const el = ref.current;
    return () => {
      alive = false;
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      cancelAnimationFrame(raf);
      if (plotly && el) plotly.purge(el);
    };
  }, []);
  return ref;
}
