/**
 * The backend chosen by measurement, in headless Chromium without WebGPU: its WebGL is SwiftShader
 * (a GPU emulated on the CPU), so the page must time it against wasm and train on wasm; a reload
 * must reuse the timing instead of measuring again.
 */
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState } from './browser.ts';

interface Measured {
  name: string;
  adapter: string;
  software: boolean;
  epochsPerSec: number | null;
  note?: string;
}

describe.skipIf(!hasBrowser)('the backend chosen by measurement', () => {
  it('trains the mainline on wasm where WebGL is software, and remembers the timing on reload', async () => {
    const s = await openBrowser({ webgpu: false });
    try {
      const { page } = s;
      const t0 = Date.now();
      await page.goto(baseUrl);
      const st = await waitForState(page, (x) => x.backend !== null, 180_000, 'a backend');
      const chooseMs = Date.now() - t0;
      const backend = st.backend as unknown as { name: string; chosenBy: string; measured: Measured[]; skipped: string[]; measureMs: number };
      console.log(`backend choice (mainline, no WebGPU): ${JSON.stringify(backend.measured)} → ${backend.name}; starting and timing the backends took ${Math.round(backend.measureMs)} ms, the page was ready after ${chooseMs} ms`);
      expect(backend.name).toBe('wasm');
      expect(backend.chosenBy).toBe('measurement');
      const wasm = backend.measured.find((m) => m.name === 'wasm')!;
      expect(wasm.epochsPerSec).toBeGreaterThan(0);
      const webgl = backend.measured.find((m) => m.name === 'webgl');
      if (webgl) {
        expect(webgl.software).toBe(true);
        // Timed last, and slower (or it failed, with a note).
        expect(backend.measured.indexOf(webgl)).toBeGreaterThan(backend.measured.indexOf(wasm));
        if (webgl.epochsPerSec !== null) expect(webgl.epochsPerSec).toBeLessThan(wasm.epochsPerSec!);
      }
      await expect.poll(() => page.getByTestId('speed-choice').textContent()).toMatch(/chose wasm$/);
      await page.screenshot({ path: `${ARTIFACTS}/backend-choice.png` });

      await page.reload();
      const again = await waitForState(page, (x) => x.backend !== null, 60_000, 'a backend after reload');
      const backend2 = again.backend as unknown as { name: string; chosenBy: string; measured: Measured[] };
      expect(backend2.name).toBe('wasm');
      expect(backend2.chosenBy).toBe('cache');
      expect(backend2.measured.map((m) => m.epochsPerSec)).toEqual(backend.measured.map((m) => m.epochsPerSec));
      await expect.poll(() => page.getByTestId('speed-choice').textContent()).toMatch(/earlier visit\): chose wasm$/);
    } finally {
      await s.close();
    }
  });

  it('counts the GPU dispatches of an update on WebGPU (the software adapter here)', async () => {
    const s = await openBrowser({ webgpu: true });
    try {
      const { page } = s;
      await page.goto(`${baseUrl}?p=5&dm=8&heads=2&mlp=16&frac=0.5&backend=webgpu`);
      const st = await waitForState(page, (x) => x.backend !== null && x.status !== 'starting', 180_000, 'the webgpu backend');
      if (st.backend!.name !== 'webgpu') {
        console.log(`no WebGPU adapter in this Chromium (${st.backend!.skipped.join('; ')}): dispatch counting not exercised`);
        expect(st.backend!.skipped.join(' ')).toMatch(/webgpu: /);
        return;
      }
      const answer = await page.evaluate(async () => {
        type Bench = (o: unknown) => Promise<{ results: { kernelsPerEpoch: number; dispatchesPerEpoch: number | null }[]; error?: string }>;
        const g = (window as unknown as { grokscope: { bench: Bench; store: { getState(): { applied: unknown } } } }).grokscope;
        return g.bench({ config: g.store.getState().applied, paths: ['fast'], blocks: 1, targetBlockMs: 20, analysis: false });
      });
      expect(answer.error).toBeUndefined();
      const r = answer.results[0];
      console.log(`webgpu (software adapter), P = 5: ${r.kernelsPerEpoch} kernels, ${r.dispatchesPerEpoch} dispatches an update`);
      // Compute kernels record one dispatch or a few; reshapes and other views record none.
      expect(r.dispatchesPerEpoch).toBeGreaterThan(0);
      expect(r.dispatchesPerEpoch).toBeLessThan(4 * r.kernelsPerEpoch);
    } finally {
      await s.close();
    }
  });
});
