/**
 * Picks the first backend that starts, in the order webgpu → webgl → wasm → cpu (or the one the
 * person asked for first), remembering why each earlier one was skipped so the UI can say so.
 * The loaders differ between the browser worker and Node; the choice does not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, type BackendName, type BackendInfo } from '../../config/backends.ts';

/** Starts a backend and returns a name for the device it runs on; throws (with a reason) if it cannot. */
export type BackendLoader = () => Promise<string>;

export function backendOrder(requested: BackendName | null, available: readonly BackendName[] = BACKENDS): BackendName[] {
  const order = available.filter((b) => b !== requested);
  return requested && available.includes(requested) ? [requested, ...order] : order;
}

export async function selectBackend(
  requested: BackendName | null,
  loaders: Partial<Record<BackendName, BackendLoader>>,
  exclude: readonly BackendName[] = [],
): Promise<BackendInfo> {
  const skipped: string[] = exclude.map((b) => `${b}: not used after it failed`);
  const available = BACKENDS.filter((b) => loaders[b] && !exclude.includes(b));
  if (requested && !loaders[requested]) skipped.push(`${requested}: not available here`);
  for (const name of backendOrder(requested, available)) {
    try {
      const adapter = await loaders[name]!();
      if (tf.getBackend() !== name) throw new Error('tfjs did not switch to it');
      return { name, adapter, requested, skipped, chosenBy: name === requested ? 'request' : 'order' };
    } catch (err) {
      skipped.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${skipped.join('; ')})`);
}

/** tf.setBackend, turning a refusal into an error with a reason. */
export async function setBackendOrThrow(name: BackendName): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    throw new Error(`tfjs could not start it (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!ok) throw new Error('tfjs could not start it');
  await tf.ready();
}
