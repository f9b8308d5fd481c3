/**
 * One owner per run: a tab that saves a run holds a Web Lock named after its key for as long as
 * the run is open there. Another tab of the same browser cannot take the lock, so it never saves
 * under that key: it says the run is training in another tab and offers a copy (a new key). The
 * browser releases the lock when the tab closes, reloads or crashes.
 */

const held = new Map<string, () => void>();
const lockName = (key: string) => `grokscope-run:${key}`;

function locks(): LockManager | null {
  return typeof navigator !== 'undefined' && navigator.locks ? navigator.locks : null;
}

/**
 * How long a lock may stay held by this tab's previous page after a reload: the browser frees it
 * when that document is gone, which on a loaded machine can take seconds after the new page starts.
 */
export const RELOAD_GRACE_MS = 5000;

/**
 * Takes ownership of a run if no other tab has it, waiting up to `waitMs` for a holder to let go;
 * true when this tab owns it (or has no locks).
 */
export function claimRun(key: string, waitMs = 0): Promise<boolean> {
  if (held.has(key)) return Promise.resolve(true);
  const lm = locks();
  if (!lm) return Promise.resolve(true);
  const options: LockOptions = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
  return new Promise((resolve) => {
    lm.request(lockName(key), options, (lock) => {
      if (!lock) {
        resolve(false);
        return undefined;
      }
      // Held until released: the promise the callback returns settles when releaseRun is called.
      return new Promise<void>((release) => {
        held.set(key, release);
        resolve(true);
      });
    }).catch((err: unknown) => resolve(!(err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError'))));
  });
}

/** Whether this tab owns a run (it may then save under its key). */
export function ownsRun(key: string): boolean {
  return held.has(key) || locks() === null;
}

export function releaseRun(key: string): void {
  held.get(key)?.();
  held.delete(key);
}

/**
 * Whether another tab holds the run. A reloaded tab's own lock goes a moment after the new page
 * starts, so a lock still held is asked about again for up to `graceMs`.
 */
export async function openElsewhere(key: string, graceMs = RELOAD_GRACE_MS): Promise<boolean> {
  const lm = locks();
  if (!lm || held.has(key)) return false;
  const deadline = Date.now() + graceMs;
  for (;;) {
    const state = await lm.query().catch(() => null);
    const busy = state?.held?.some((l) => l.name === lockName(key)) ?? false;
    if (!busy || Date.now() >= deadline) return busy;
    await new Promise((r) => setTimeout(r, 200));
  }
}
