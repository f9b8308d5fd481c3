/**
 * Cross-origin isolation for the threaded wasm backend (#11). `vite dev` and `vite preview` send
 * the headers themselves; a static host that sends none (GitHub Pages) gets them from
 * public/isolation-sw.js, which this registers before the app starts. The page then reloads once,
 * before any run exists in it, so nothing can be lost. Where that cannot work (no service workers,
 * not a secure context, a browser that ignores it) the page runs as before, on one wasm thread.
 */

export type Isolation = 'isolated' | 'reloading' | 'unavailable';

/** Set for this tab once a reload for isolation was tried, so it is tried once only. */
const TRIED_KEY = 'grokscope.isolation-tried';
/** How long to wait for the service worker to take control before starting without it. */
const ACTIVATE_TIMEOUT_MS = 4000;

function triedBefore(): boolean {
  try {
    if (sessionStorage.getItem(TRIED_KEY) === '1') return true;
    sessionStorage.setItem(TRIED_KEY, '1');
    return false;
  } catch {
    return true; // no sessionStorage (sandboxed): never risk a reload loop
  }
}

export async function ensureIsolation(): Promise<Isolation> {
  if (globalThis.crossOriginIsolated === true) return 'isolated';
  if (!globalThis.isSecureContext || !('serviceWorker' in navigator) || triedBefore()) return 'unavailable';
  try {
    const container = navigator.serviceWorker;
    const controlled = new Promise<boolean>((resolve) => {
      container.addEventListener('controllerchange', () => resolve(true), { once: true });
      setTimeout(() => resolve(false), ACTIVATE_TIMEOUT_MS);
    });
    await container.register(new URL('isolation-sw.js', document.baseURI), { scope: './' });
    // Already controlled but not isolated: this page loaded before the worker could add headers.
    if (container.controller || (await controlled)) {
      location.reload();
      return 'reloading';
    }
  } catch {
    // Registration refused (e.g. a private window): run without threads.
  }
  return 'unavailable';
}
