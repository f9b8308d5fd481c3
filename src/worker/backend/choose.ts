/**
 * Owns the choice of the worker's backend at start: the one the link asks for, else the one timed
 * fastest on this device for this model size on an earlier visit (if it still starts with the same
 * adapter), else the fastest of a fresh measurement (src/model/backend/measure.ts).
 */
import type { BackendInfo, BackendName } from '../../config/backends.ts';
import type { TrainConfig } from '../../config/schema.ts';
import { chooseByMeasurement, type UpdateTimer } from '../../model/backend/measure.ts';
import { selectBackend, type BackendLoader } from '../../model/backend/select.ts';
import { CPU_LIMITS, checkMemory } from '../../model/memory.ts';
import type { CachedBackendChoice } from '../../run/protocol.ts';

export async function chooseBackend(opts: {
  config: TrainConfig;
  requested: BackendName | null;
  cached: CachedBackendChoice | null;
  exclude: readonly BackendName[];
  loaders: Partial<Record<BackendName, BackendLoader>>;
  /** How a backend is timed (tests replace it). */
  timer?: UpdateTimer;
}): Promise<BackendInfo> {
  const { config, requested, cached, exclude, loaders, timer } = opts;
  if (requested) return selectBackend(requested, loaders, exclude);
  if (cached && !exclude.includes(cached.name) && loaders[cached.name]) {
    try {
      const info = await selectBackend(cached.name, { [cached.name]: loaders[cached.name] });
      // The same device as when it was timed: trust the timing.
      if (info.name === cached.name && info.adapter === cached.adapter) {
        return { name: info.name, adapter: info.adapter, requested: null, skipped: cached.skipped, chosenBy: 'cache', measured: cached.measured };
      }
    } catch {
      // It no longer starts: measure again.
    }
  }
  // A configuration too large for the CPU's memory cannot be timed either; the session refuses it
  // with a message that names the limit.
  if (checkMemory(config, CPU_LIMITS.wasm)) return selectBackend(null, loaders, exclude);
  return chooseByMeasurement(config, loaders, { exclude, timer });
}
