/** The LLC over training's two charts, from a store state (no browser). */
import { describe, expect, it } from 'vitest';
import type { LlcEstimate } from '../../src/run/protocol.ts';
import { createLlcStore } from '../../src/store/llc.ts';
import { createAppStore } from '../../src/store/store.ts';
import { llcSpec, llcTracesSpec } from '../../src/ui/charts/LlcChart.tsx';

const SETTINGS = { eps: 5e-5, gamma: 1000, nbeta: 10, chains: 2, draws: 4, batch: 16, seed: 0 };
const estimate = (epoch: number, llc: number, settled: boolean): LlcEstimate => ({
  epoch,
  llc,
  error: llc / 10,
  llcPerChain: [llc, llc],
  initLoss: 1,
  traces: [
    [1.1, 1.2, 1.2, 1.2],
    [1.0, 1.3, 1.6, 1.9],
  ],
  settledPerChain: [true, false],
  settled,
  settings: SETTINGS,
  seconds: 1,
});

describe('the LLC charts', () => {
  it('draw settled estimates filled and the others open, with their errors, and the last estimate per chain', () => {
    const llc = createLlcStore();
    llc.getState().setSchedule({ settings: {}, share: 0.1 });
    for (const [e, v, ok] of [[0, 1, true], [100, 20, false], [200, 5, true]] as const) llc.getState().receive({ type: 'llc', runId: 1, estimate: estimate(e, v, ok) });
    const app = createAppStore().getState();
    const spec = llcSpec(llc.getState(), app);
    const [joined, settled, open] = spec.data;
    expect(joined.x).toEqual([0, 100, 200]);
    expect(settled.x).toEqual([0, 200]);
    expect((settled.error_y as { array: number[] }).array).toEqual([0.1, 0.5]);
    expect(open.x).toEqual([100]);
    expect((open.marker as { color: string }).color).toBe('white');
    expect(String((spec.layout.title as { text: string }).text)).toContain('3 snapshots');
    const traces = llcTracesSpec(llc.getState());
    expect(traces.data).toHaveLength(2);
    // Loss above L(w*) per draw; the drifting chain dashed.
    expect((traces.data[1].y as number[]).map((v) => +v.toFixed(6))).toEqual([0, 0.3, 0.6, 0.9]);
    expect((traces.data[0].line as { dash: string }).dash).toBe('solid');
    expect((traces.data[1].line as { dash: string }).dash).toBe('dash');
    expect(String((traces.layout.title as { text: string }).text)).toMatch(/epoch 200: LLC 5.00 ± 0.50, settled/);
  });

  it('say there is no estimate yet', () => {
    const llc = createLlcStore();
    expect(String((llcSpec(llc.getState(), createAppStore().getState()).layout.title as { text: string }).text)).toContain('no estimate yet');
    expect(llcTracesSpec(llc.getState()).data).toEqual([]);
  });
});
