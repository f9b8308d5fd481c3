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

/** Takes ownership of a run if no other tab has it; true when this tab owns it (or has no locks). */
export function claimRun(key: string): Promise<boolean> {
  if (held.has(key)) return Promise.resolve(true);
  const lm = locks();
  if (!lm) return Promise.resolve(true);
  return new Promise((resolve) => {
    lm.request(lockName(key), { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolve(false);
        return undefined;
      }
      // Held until released: the promise the callback returns settles when releaseRun is called.
      return new Promise<void>((release) => {
        held.set(key, release);
        resolve(true);
      });
    }).catch(() => resolve(true));
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
export async function openElsewhere(key: string, graceMs = 2000): Promise<boolean> {
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
