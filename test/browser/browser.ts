/** Launching Debian's Chromium headless for the browser tests (see shared TESTING.md). */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { CHROMIUM_QUIET_FLAGS } from '../../src/cli/bench/chromium.ts';

export const chromiumPath = inject('chromium');
export const baseUrl = inject('baseUrl');
/** Browser tests run when Chromium was found (and must, under CI=true). */
export const hasBrowser = chromiumPath !== null;

export const QUIET_FLAGS = CHROMIUM_QUIET_FLAGS;

/** Screenshots land here (test artifacts, looked at by people). */
export const ARTIFACTS = 'test-results';

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Messages the page logged and errors it threw, for failure reports. */
  logs: string[];
  /** The browser profile's folder (its processes name it: rendererPeakMb finds them by it). */
  dir: string;
  close(): Promise<void>;
}

/** A fresh browser profile; `webgpu` adds --enable-unsafe-webgpu (a SwiftShader adapter). */
export async function openBrowser(opts: { webgpu: boolean; width?: number; height?: number; extraArgs?: string[]; serviceWorkers?: 'allow' | 'block'; touch?: boolean }): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'grokscope-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath!,
    headless: true,
    args: [...(opts.webgpu ? ['--enable-unsafe-webgpu'] : []), ...QUIET_FLAGS, ...(opts.extraArgs ?? [])],
    viewport: { width: opts.width ?? 1400, height: opts.height ?? 1000 },
    serviceWorkers: opts.serviceWorkers ?? 'allow',
    // A phone: touch events and a coarse pointer, so (pointer: coarse) and (hover: none) hold
    ...(opts.touch ? { hasTouch: true, isMobile: true, deviceScaleFactor: 3 } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    logs,
    dir,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The page's store state, through the read-only handle it exposes as window.grokscope. */
export interface PageState {
  epoch: number;
  status: string;
  backend: { name: string; adapter: string; requested: string | null; skipped: string[] } | null;
  draft: Record<string, unknown>;
  history: { epoch: number; trainLoss: number; testLoss: number; trainAcc: number; testAcc: number; weightDecay: number; lr: number }[];
  notices: { level: string; text: string }[];
  /** A recording is being opened: its curves may show (a preview) before the worker has loaded it. */
  opening: boolean;
}

export function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    type Store = { getState(): Record<string, unknown> & { history: { toArray(): unknown[] } } };
    const s = (window as unknown as { grokscope: { store: Store } }).grokscope.store.getState();
    return {
      epoch: s.epoch,
      status: s.status,
      backend: s.backend,
      draft: s.draft,
      history: s.history.toArray(),
      notices: s.notices,
      opening: s.recordingRequest != null,
    } as unknown as PageState;
  });
}

/** Polls `pageState` until `cond` holds. */
export async function waitForState(page: Page, cond: (s: PageState) => boolean, timeoutMs = 60_000, what = 'state'): Promise<PageState> {
  const start = Date.now();
  for (;;) {
    const s = await pageState(page);
    if (cond(s)) return s;
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: epoch ${s.epoch}, status ${s.status}, backend ${s.backend?.name}, notices ${JSON.stringify(s.notices)}`);
    }
    await page.waitForTimeout(100);
  }
}

/** Waits until a recorded run is open in the worker (not only previewed from its file). */
export function waitForRecording(page: Page, timeoutMs = 120_000, what = 'the recorded run to open'): Promise<PageState> {
  return waitForState(page, (s) => s.history.length > 100 && s.status !== 'starting' && !s.opening, timeoutMs, what);
}

/** Moves the scrubber to checkpoint `index` as a person dragging it would (an input event). */
export async function scrubTo(page: Page, index: number): Promise<void> {
  await page.getByTestId('scrub').evaluate((el, v) => {
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    setter.call(el, String(v));
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, index);
}

/**
 * The peak resident memory (VmHWM, MB) of each renderer process of the browser whose profile is
 * `dir`, largest first (Linux /proc; a page's dedicated workers run in its renderer).
 */
export function rendererPeaksMb(dir: string): number[] {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const parent = (pid: string) => /^\d+ \(.*\) \S (\d+)/s.exec(read(`/proc/${pid}/stat`))?.[1] ?? '0';
  const ours = (pid: string) => {
    for (let p = pid, i = 0; p !== '0' && p !== '1' && i < 10; p = parent(p), i++) if (read(`/proc/${p}/cmdline`).includes(dir)) return true;
    return false;
  };
  const peaks: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (!read(`/proc/${pid}/cmdline`).includes('--type=renderer') || !ours(pid)) continue;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`));
    if (hwm) peaks.push(Math.round(Number(hwm[1]) / 1024));
  }
  return peaks.sort((a, b) => b - a);
}
