/**
 * The fused WebGPU step (src/model/webgpu/fused.ts) on Chromium's software WebGPU adapter: the
 * same small model trained with and without the fused kernels gives the same losses, first
 * gradients, weights and moments (≤ 1e-5 relative), in fewer compute dispatches; and the page's
 * own benchmark (window.grokscope.bench, webgpu) records the fused count.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchedCheck, FusedRun } from './fused-page.ts';
import { baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

/** Largest |a − b| / max(|a|, 1e-30) element by element (for the losses). */
function maxRel(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), 1e-30));
  return m;
}

/**
 * Largest, over parameters, of max|a − b| / max|a| (each parameter against its own scale). Not
 * element by element: the fused kernels sum in another order, so a gradient element that is
 * ~1e-8 of its parameter's largest (float32 cancellation) differs relatively, and Adam divides
 * it by its own √v, so a weight's update is that relative difference times lr.
 */
function maxRelByParam(a: Record<string, number[]>, b: Record<string, number[]>): number {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  let worst = 0;
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    expect(y.length).toBe(x.length);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < x.length; i++) {
      scale = Math.max(scale, Math.abs(x[i]));
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
    }
    worst = Math.max(worst, scale === 0 ? diff : diff / scale);
  }
  return worst;
}

/** Small enough for SwiftShader: P = 5, d_model 16, 2 heads, d_mlp 64, 80% of the pairs. */
const SMALL = { p: 5, dModel: 16, nHeads: 2, dMlp: 64, frac: 0.8, warmup: 0, lr: 0.01 };

/** The fused step's losses, first gradients, weights and both Adam moments equal the general path's (≤ 1e-5). */
function expectSameUpdates(unfused: FusedRun, fused: FusedRun): void {
  expect(maxRel(unfused.losses, fused.losses)).toBeLessThanOrEqual(1e-5);
  expect(maxRelByParam(unfused.firstM, fused.firstM)).toBeLessThanOrEqual(1e-5);
  expect(maxRelByParam(unfused.weights, fused.weights)).toBeLessThanOrEqual(1e-5);
  expect(maxRelByParam(unfused.m, fused.m)).toBeLessThanOrEqual(1e-5);
  expect(maxRelByParam(unfused.v, fused.v)).toBeLessThanOrEqual(1e-5);
}

describe.skipIf(!hasBrowser)('the fused WebGPU step', () => {
  let s: Session;
  let script = '';
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-fused-'));
    try {
      await build({
        configFile: false,
        logLevel: 'warn',
        build: { outDir: dir, emptyOutDir: true, target: 'es2022', minify: false, lib: { entry: 'test/browser/fused-page.ts', formats: ['es'], fileName: 'fused' } },
      });
      script = readFileSync(join(dir, 'fused.js'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    s = await openBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Opens the page script (fused-page.ts) on the preview's origin: a secure context, so navigator.gpu is offered. */
  async function openCheckPage(): Promise<void> {
    const { page } = s;
    await page.route(`${baseUrl}fused-check.html`, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><script type="module" src="fused-check.js"></script>' }));
    await page.route(`${baseUrl}fused-check.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: script }));
    await page.goto(`${baseUrl}fused-check.html`);
    await page.waitForFunction(() => 'fusedCheck' in window, undefined, { timeout: 60_000 });
  }

  async function check(over: Record<string, number | string>, steps: number): Promise<{ backend: string; unfused: FusedRun; fused: FusedRun }> {
    const { page } = s;
    await openCheckPage();
    return page.evaluate(
      ([o, n]) => (window as unknown as { fusedCheck(o: unknown, n: number): Promise<{ backend: string; unfused: FusedRun; fused: FusedRun }> }).fusedCheck(o, n),
      [over, steps] as const,
    );
  }

  it('gives the general path\'s losses, gradients, weights and moments in fewer dispatches', async () => {
    const { backend, unfused, fused } = await check(SMALL, 3);
    expect(backend).toBe('webgpu');
    expect(unfused.losses.every(Number.isFinite)).toBe(true);
    // The updates moved the weights and the loss (else equality would prove nothing).
    expect(unfused.losses[2]).not.toBe(unfused.losses[0]);
    expectSameUpdates(unfused, fused);
    expect(fused.numTensorsDelta).toBe(0);
    expect(unfused.numTensorsDelta).toBe(0);
    console.log(`dispatches per update at P = 5: ${unfused.dispatches} unfused, ${fused.dispatches} fused`);
    // The issue's target for an update (the count does not depend on the model's size).
    expect(fused.dispatches).toBeLessThanOrEqual(30);
    expect(fused.dispatches).toBeLessThan(unfused.dispatches);
  }, 240_000);

  it('with Grokfast, and with GELU', async () => {
    for (const over of [{ ...SMALL, grokfastLambda: 2, grokfastAlpha: 0.9 }, { ...SMALL, grokfastLambda: 2, grokfastAlpha: 0.9, act: 'gelu' }, { ...SMALL, act: 'gelu' }]) {
      const { unfused, fused } = await check(over, 3);
      expectSameUpdates(unfused, fused);
      expect(fused.numTensorsDelta).toBe(0);
      expect(fused.dispatches).toBeLessThanOrEqual(30);
    }
  }, 240_000);

  it('keeps the general forward for 2 blocks, dropout and L1, with the fused loss and update', async () => {
    for (const over of [{ ...SMALL, nLayers: 2 }, { ...SMALL, dropout: 0.2 }, { ...SMALL, l1: 1e-3 }]) {
      const { unfused, fused } = await check(over, 3);
      expect(maxRel(unfused.losses, fused.losses)).toBeLessThanOrEqual(1e-5);
      expect(maxRelByParam(unfused.firstM, fused.firstM)).toBeLessThanOrEqual(1e-5);
      expect(maxRelByParam(unfused.weights, fused.weights)).toBeLessThanOrEqual(1e-5);
      expect(fused.numTensorsDelta).toBe(0);
      expect(fused.dispatches).toBeLessThan(unfused.dispatches);
    }
  }, 240_000);

  async function batchedCheck(overs: Record<string, number | string>[], steps: number, counts: number[], matMulProgram?: number): Promise<BatchedCheck> {
    await openCheckPage();
    return s.page.evaluate(
      ([o, n, c, mp]) => (window as unknown as { batchedCheck(o: unknown, n: number, c: number[], mp?: number): Promise<BatchedCheck> }).batchedCheck(o, n, c, mp ?? undefined),
      [overs, steps, counts, matMulProgram ?? null] as const,
    );
  }

  /** Five models that differ in everything that keeps the shape (padding: their fractions differ). */
  const MIXED = [
    { ...SMALL, seed: 0 },
    { ...SMALL, seed: 1, weightDecay: 0.3, lr: 3e-3 },
    { ...SMALL, seed: 2, frac: 0.5, beta1: 0.8, beta2: 0.99, warmup: 3 },
    { ...SMALL, seed: 3, grokfastLambda: 2, grokfastAlpha: 0.9 },
    { ...SMALL, seed: 4, task: 'sub', weightDecay: 0 },
  ];
  /** tfjs-webgpu's MatMulPackedProgram (its MatMulProgramType enum). */
  const MATMUL_PACKED = 3;

  it('trains N models batched bit for bit as N single fused runs over 100 updates (one matmul program for both)', async () => {
    const r = await batchedCheck(MIXED, 100, [], MATMUL_PACKED);
    expect(r.fusedStep).toBe(true);
    expect(r.moved).toBe(true);
    for (const e of r.errors) {
      expect(e.w).toBe(0);
      expect(e.m).toBe(0);
      expect(e.v).toBe(0);
      // A model's loss sums its rows weighted by 1/N, padding included as zeros: the last bit may differ.
      expect(e.loss).toBeLessThanOrEqual(1e-6);
    }
  }, 300_000);

  // tfjs picks a matmul program by the product's batch size, so with its default choice a model's
  // products sum in another order batched than alone, and Adam turns a rounding difference in a
  // tiny gradient element into one of lr·(its sign) in the weight: as in the fused-against-general
  // check above, 3 updates (at lr 1e-2, over 100 they grow to ~4e-4 of a model's largest weight).
  it("with tfjs's own matmul choice, within 1e-5 of the single runs; dispatches do not grow with N", async () => {
    const r = await batchedCheck(MIXED, 3, [1, 2, 4, 8]);
    console.log(`batched fused step against single runs, 3 updates: largest relative difference ${Math.max(...r.errors.map((e) => Math.max(e.loss, e.w, e.m, e.v))).toExponential(1)}`);
    for (const e of r.errors) expect(Math.max(e.loss, e.w, e.m, e.v)).toBeLessThanOrEqual(1e-5);
    console.log(`batched fused step, dispatches per update by models: ${r.dispatches.map((d) => `${d.models}: ${d.dispatches}`).join(', ')}`);
    for (const d of r.dispatches) {
      expect(d.dispatches).toBe(r.dispatches[0].dispatches);
      expect(d.numTensorsDelta).toBe(0);
    }
    expect(r.dispatches[0].dispatches).toBeLessThanOrEqual(30);
  }, 300_000);

  it('is what the page trains with: its benchmark counts the fused dispatches', async () => {
    const { page } = s;
    const { fused } = await check(SMALL, 1);
    await page.goto(`${baseUrl}?backend=webgpu&p=5&dm=16&heads=2&mlp=64&frac=0.8`);
    await waitForState(page, (st) => st.status === 'idle', 120_000, 'ready on webgpu');
    const config = (await waitForState(page, () => true)).draft;
    const answer = await page.evaluate(
      (c) => (window as unknown as { grokscope: { bench(o: unknown): Promise<{ results: { backend: string; dispatchesPerEpoch: number | null }[] }> } }).grokscope.bench({ config: c, paths: ['fast'], blocks: 1, targetBlockMs: 1, analysis: false }),
      config,
    );
    const r = answer.results[0];
    expect(r.backend).toBe('webgpu');
    expect(r.dispatchesPerEpoch).toBe(fused.dispatches);
    // `npm run bench -- --browser --models N`: N seeds batched, one update recording the dispatches of one.
    const many = await page.evaluate(
      (c) => (window as unknown as { grokscope: { bench(o: unknown): Promise<{ batched?: { backend: string; models: number; dispatchesBatched: number | null; dispatchesSingle: number | null; speedup: number; numTensorsDelta: number } }> } }).grokscope.bench({ config: c, paths: [], blocks: 1, targetBlockMs: 1, analysis: false, models: 3 }),
      config,
    );
    expect(many.batched?.backend).toBe('webgpu');
    expect(many.batched?.models).toBe(3);
    expect(many.batched?.dispatchesSingle).toBe(fused.dispatches);
    expect(many.batched?.dispatchesBatched).toBe(fused.dispatches);
    expect(many.batched?.speedup).toBeGreaterThan(0);
    expect(many.batched?.numTensorsDelta).toBe(0);
  }, 240_000);
});
