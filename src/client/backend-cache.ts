/**
 * Remembers, per device and model size, which backend was timed fastest, so a reload trains at
 * once instead of timing every backend again. The device is this browser on this machine (user
 * agent, core count); the worker also checks that the backend still runs on the same adapter.
 */
import type { BackendInfo } from '../config/backends.ts';
import type { TrainConfig } from '../config/schema.ts';
import type { CachedBackendChoice } from '../run/protocol.ts';

const STORAGE_KEY = 'grokscope.backendChoice.v1';
/** Old entries give way: a few model sizes on one device is all a person uses. */
const MAX_ENTRIES = 16;

/** What makes two configurations time alike: the shapes and the batch (data fraction). */
export function modelSizeKey(c: TrainConfig): string {
  return `P${c.p} frac${c.frac} d${c.dModel} h${c.nHeads} mlp${c.dMlp} L${c.nLayers} ${c.vocabOut} ${c.act}`;
}

function deviceKey(): string {
  const nav = globalThis.navigator as Navigator | undefined;
  return `${nav?.userAgent ?? 'unknown browser'} | ${nav?.hardwareConcurrency ?? '?'} cores`;
}

type Entries = Record<string, CachedBackendChoice & { savedAt: number }>;

function read(storage: Storage): Entries {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Entries) : {};
  } catch {
    return {};
  }
}

function isChoice(x: unknown): x is CachedBackendChoice {
  const c = x as CachedBackendChoice;
  return !!c && typeof c.name === 'string' && typeof c.adapter === 'string' && Array.isArray(c.skipped) && Array.isArray(c.measured);
}

/** The remembered choice for this device and model size, or null. */
export function cachedBackendChoice(config: TrainConfig, storage: Storage | null = globalThis.localStorage ?? null): CachedBackendChoice | null {
  if (!storage) return null;
  const entry = read(storage)[`${deviceKey()} | ${modelSizeKey(config)}`];
  if (!isChoice(entry)) return null;
  // JSON has no NaN: untimed backends come back as null.
  return { ...entry, measured: entry.measured.map((m) => ({ ...m, epochsPerSec: typeof m.epochsPerSec === 'number' ? m.epochsPerSec : NaN })) };
}

/** Remembers a choice made by measurement (a requested or remembered one changes nothing). */
export function rememberBackendChoice(config: TrainConfig, info: BackendInfo, storage: Storage | null = globalThis.localStorage ?? null): void {
  if (!storage || info.chosenBy !== 'measurement' || !info.measured) return;
  const entries = read(storage);
  entries[`${deviceKey()} | ${modelSizeKey(config)}`] = { name: info.name, adapter: info.adapter, skipped: info.skipped, measured: info.measured, savedAt: Date.now() };
  const kept = Object.entries(entries)
    .sort((a, b) => (b[1].savedAt ?? 0) - (a[1].savedAt ?? 0))
    .slice(0, MAX_ENTRIES);
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // Storage full or refused: the next visit times again, nothing else is lost.
  }
}
