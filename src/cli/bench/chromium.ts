/**
 * Debian's Chromium, headless, for the browser half of the benchmark and for the browser tests:
 * where to find it and the flags that keep it quiet on a closed network (no downloads, no sync).
 */
import { existsSync } from 'node:fs';

export const CHROMIUM_QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** $CHROMIUM_PATH, or Debian's Chromium; null when there is none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  return candidates.find((p) => existsSync(p)) ?? null;
}
