/**
 * The page in real Chromium, on the built site: training, the live weight-decay slider, shared
 * links, bad links, and the WebGPU backend (SwiftShader's software adapter) against wasm in Node.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeQuery } from '../../src/config/url.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { useBackend } from '../helpers.ts';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, waitForState, type Session } from './browser.ts';


/** Small enough to train hundreds of epochs a second on wasm in a headless browser. */
const SMALL = 'p=23&dm=32&mlp=64&frac=0.5&wd=1';

if (!hasBrowser) {
  describe('browser tests', () => {
    it.skip('skipped: Chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH)', () => {});
  });
}

describe.skipIf(!hasBrowser)('the page (wasm backend)', () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('trains when Train is pressed: the epoch counter and the loss curve advance', async () => {
    const { page } = s;
    // The page loads nothing from other origins, and its Content-Security-Policy is never violated.
    const foreign: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== new URL(baseUrl).origin) foreign.push(r.url());
    });
    await page.addInitScript(() => {
      (window as unknown as { cspViolations: string[] }).cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { cspViolations: string[] }).cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${baseUrl}?${SMALL}&backend=wasm`);
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).toMatch(/default-src 'self'/);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    await expect.poll(() => page.getByTestId('backend-name').textContent()).toBe('wasm');
    await page.getByTestId('train').click();
    const st = await waitForState(page, (x) => x.epoch >= 300 && x.history.length >= 4, 60_000, '300 epochs');
    const shown = Number((await page.getByTestId('epoch').textContent())!.split('/')[0].replace(/[^0-9]/g, ''));
    expect(shown).toBeGreaterThan(0);
    // The chart holds the checkpoints: plotly keeps its data on the graph div.
    const points = await page.evaluate(() => {
      const el = document.querySelector('[data-testid=loss-chart]') as unknown as { data?: { x: ArrayLike<number> }[] };
      return el.data ? el.data[0].x.length : 0;
    });
    expect(points).toBeGreaterThanOrEqual(3);
    const losses = st.history.map((c) => c.trainLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    expect(await page.getByTestId('eps').textContent()).toMatch(/\d/);
    await page.screenshot({ path: `${ARTIFACTS}/training-wasm.png`, fullPage: true });
    console.log(`browser (wasm): epoch ${st.epoch}, ${st.history.length} checkpoints, train loss ${losses[0].toFixed(3)} → ${losses.at(-1)!.toFixed(3)}`);
    await page.getByTestId('pause').click();
    await waitForState(page, (x) => x.status === 'paused', 30_000, 'pause');
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    expect(foreign).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });

  it('applies the weight-decay slider live: the URL and the running training pick it up', async () => {
    const { page } = s;
    await page.goto(`${baseUrl}?${SMALL}&backend=wasm`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.history.length >= 3, 60_000, 'a few checkpoints');
    const slider = page.getByTestId('wd-slider');
    // Keyboard, as a person without a mouse would: three stops down from λ = 1 is 0.2.
    await slider.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.getByTestId('wd-value').textContent()).toBe('0.2');
    await expect.poll(() => new URL(page.url()).searchParams.get('wd'), { timeout: 5000 }).toBe('0.2');
    const changedAt = (await pageState(page)).epoch;
    const st = await waitForState(page, (x) => x.history.some((c) => c.epoch > changedAt + 20), 60_000, 'checkpoints after the change');
    const after = st.history.filter((c) => c.epoch > changedAt + 20);
    expect(after.every((c) => c.weightDecay === 0.2)).toBe(true);
    expect(st.history[0].weightDecay).toBe(1);
    // Dragging to the left end reaches exactly 0.
    await slider.fill('0');
    await expect.poll(() => new URL(page.url()).searchParams.get('wd')).toBe('0');
    await page.getByTestId('pause').click();
  });

  it('restores the form from a shared link', async () => {
    const { page } = s;
    const query = 'preset=p53&seed=7&lr=0.003&task=sub&act=gelu&epochs=5000&backend=wasm';
    await page.goto(`${baseUrl}?${query}`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    const st = await pageState(page);
    expect(st.draft).toEqual(decodeQuery(query).config);
    // The link is p53 with its seed, lr, task and activation changed: the menu tells the truth
    // ("custom", issue 15) while the link keeps preset=p53 (checked below).
    expect(await page.getByTestId('preset').inputValue()).toBe('');
    expect(await page.locator('[data-testid="preset"] option:checked').textContent()).toBe('custom');
    expect(await page.getByTestId('field-p').inputValue()).toBe('53');
    expect(await page.getByTestId('field-seed').inputValue()).toBe('7');
    expect(await page.getByTestId('field-task').inputValue()).toBe('sub');
    expect(await page.getByTestId('field-act').inputValue()).toBe('gelu');
    expect(await page.getByTestId('lr-input').inputValue()).toBe('0.003');
    expect(await page.getByTestId('wd-value').textContent()).toBe('5');
    // The page keeps the link as it was given (same keys, same values).
    await page.waitForTimeout(400);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual(Object.fromEntries(new URLSearchParams(query)));
    expect(await page.getByTestId('url-issues').count()).toBe(0);
  });

  it('names each bad parameter of a link and uses its default', async () => {
    const { page } = s;
    await page.goto(`${baseUrl}?p=12&frac=2&task=%3Cb%3Emul%3C%2Fb%3E&dm=abc&backend=wasm`);
    const box = page.getByTestId('url-issues');
    await expect.poll(() => box.count()).toBe(1);
    const text = (await box.textContent())!;
    expect(text).toMatch(/p: P \(modulus\) 12 is not prime; using 113/);
    expect(text).toMatch(/frac: training fraction must be in \(0, 1\), got 2; using 0.3/);
    expect(text).toMatch(/dm: d_model must be a number, got "abc"; using 128/);
    // User text is shown as text, never as markup.
    expect(text).toContain('<b>mul</b>');
    expect(await box.locator('b').count()).toBe(0);
    expect(await page.getByTestId('field-p').inputValue()).toBe('113');
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    expect((await pageState(page)).draft.p).toBe(113);
    await page.screenshot({ path: `${ARTIFACTS}/bad-link.png` });
  });
});

describe.skipIf(!hasBrowser)('backends in the browser', () => {
  it('runs the webgpu backend (when the headless browser offers it) and matches wasm', async () => {
    const s = await openBrowser({ webgpu: true });
    try {
      const { page } = s;
      // Tiny: SwiftShader's WebGPU is a CPU emulation, ~100× slower than wasm.
      const query = 'p=5&dm=8&heads=2&mlp=16&frac=0.5&lr=0.01&backend=webgpu';
      await page.goto(`${baseUrl}?${query}`);
      const ready = await waitForState(page, (st) => st.status === 'idle' || st.status === 'error', 120_000, 'the worker to be ready');
      const backend = ready.backend!;
      console.log(`browser webgpu test: backend ${backend.name} (${backend.adapter}); skipped: ${backend.skipped.join('; ') || 'none'}`);
      if (backend.name !== 'webgpu') {
        // Only acceptable where this Chromium offers no adapter at all (then say so loudly).
        expect(backend.skipped.join(' ')).toMatch(/webgpu: .*(no WebGPU adapter|no WebGPU)/);
        console.warn('*** this Chromium offers no WebGPU adapter: the webgpu path was NOT exercised ***');
        return;
      }
      expect(await page.getByTestId('backend-name').textContent()).toBe('webgpu');
      await page.getByTestId('step').click();
      const st = await waitForState(page, (x) => x.history.some((c) => c.epoch === 10), 240_000, '10 epochs on webgpu');
      // The same run in Node on wasm: same seed, same split, same init.
      await useBackend('wasm');
      const trainer = new Trainer(decodeQuery(query).config);
      const m0 = await trainer.evaluateAsync();
      for (let e = 0; e < 10; e++) trainer.trainStep();
      const m10 = await trainer.evaluateAsync();
      trainer.dispose();
      const gpu0 = st.history.find((c) => c.epoch === 0)!;
      const gpu10 = st.history.find((c) => c.epoch === 10)!;
      console.log(`  epoch 0 train loss: webgpu ${gpu0.trainLoss}, wasm ${m0.trainLoss}; epoch 10: webgpu ${gpu10.trainLoss}, wasm ${m10.trainLoss}`);
      expect(Math.abs(gpu0.trainLoss - m0.trainLoss)).toBeLessThan(1e-4 * m0.trainLoss);
      expect(Math.abs(gpu10.trainLoss - m10.trainLoss)).toBeLessThan(1e-3 * m10.trainLoss);
      expect(Math.abs(gpu10.testLoss - m10.testLoss)).toBeLessThan(1e-3 * m10.testLoss);
      await page.screenshot({ path: `${ARTIFACTS}/webgpu.png` });
    } finally {
      await s.close();
    }
  });

  it('falls back with a clear message where WebGPU has no adapter', async () => {
    const s = await openBrowser({ webgpu: false });
    try {
      const { page } = s;
      await page.goto(`${baseUrl}?p=5&dm=8&heads=2&mlp=16`);
      const st = await waitForState(page, (x) => x.backend !== null, 120_000, 'a backend');
      console.log(`browser fallback test: backend ${st.backend!.name} (${st.backend!.adapter}); skipped: ${st.backend!.skipped.join('; ')}`);
      expect(st.backend!.name).not.toBe('webgpu');
      expect(st.backend!.skipped[0]).toMatch(/^webgpu: /);
      const notice = page.getByTestId('backend-notice');
      await expect.poll(() => notice.count()).toBe(1);
      expect(await notice.textContent()).toMatch(/WebGPU is not available here/);
      await page.screenshot({ path: `${ARTIFACTS}/no-webgpu.png` });
    } finally {
      await s.close();
    }
  });
});
