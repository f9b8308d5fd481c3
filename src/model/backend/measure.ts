/**
 * The backend chosen by measurement: every backend that starts is timed on a few real updates of
 * the run's configuration, and the fastest trains. "First that starts" picked WebGL on machines
 * whose WebGL is a software emulation (VMs, remote desktops, headless browsers), where wasm on the
 * same cores is ~20× faster. GPUs emulated on the CPU are timed last, and not at all when a
 * hardware GPU started. The CPU backend is used only when nothing else starts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, isSoftwareAdapter, type BackendInfo, type BackendMeasurement, type BackendName } from '../../config/backends.ts';
import type { TrainConfig } from '../../config/schema.ts';
import { selectBackend, setBackendOrThrow, type BackendLoader } from './select.ts';
import { Trainer } from '../trainer.ts';

/** Time each backend is timed for, after its first update (which compiles its kernels). */
export const MEASURE_MS_PER_BACKEND = 400;
/** At most this many timed updates on one backend (small configurations are fast). */
export const MEASURE_MAX_UPDATES = 64;

/** A timing: epochs a second, or (`atMost`) a bound from the first, compiling, update alone. */
export interface Timing {
  epochsPerSec: number;
  atMost?: boolean;
}

/** Times `config` on the active backend; `beat` is the best rate so far (0 for none). */
export type UpdateTimer = (config: TrainConfig, beat: number) => Promise<Timing>;

/**
 * Times real updates of `config` on the active backend: one update to warm up (kernel
 * compilation, weight packing), then blocks of 1, 2, 4, … updates, each ended by one read of the
 * loss (so a GPU's queue is timed whole, not one readback per update), until the budget is spent.
 *
 * `beat` > 0 (given for GPUs emulated on the CPU only): when the first update, compilation
 * included, runs at under half that rate, the backend is reported with that rate as a bound
 * (`atMost`) and not timed further. On an emulated GPU an update costs about as much as its
 * compilation, so it cannot win; this spares seconds of SwiftShader on every first visit.
 */
export async function timeUpdates(config: TrainConfig, beat = 0, budgetMs = MEASURE_MS_PER_BACKEND, now: () => number = () => performance.now()): Promise<Timing> {
  const trainer = new Trainer({ ...config });
  try {
    const first = now();
    trainer.trainStep();
    await trainer.lastTrainLoss!.data();
    const firstRate = 1000 / Math.max(now() - first, 1e-3);
    if (beat > 0 && firstRate < beat / 2) return { epochsPerSec: firstRate, atMost: true };
    const t0 = now();
    let updates = 0;
    for (let block = 1; updates < MEASURE_MAX_UPDATES; block *= 2) {
      const n = Math.min(block, MEASURE_MAX_UPDATES - updates);
      for (let i = 0; i < n; i++) trainer.trainStep();
      await trainer.lastTrainLoss!.data();
      updates += n;
      if (now() - t0 >= budgetMs) break;
    }
    return { epochsPerSec: (1000 * updates) / Math.max(now() - t0, 1e-3) };
  } finally {
    trainer.dispose();
  }
}

export interface MeasureOptions {
  /** Backends not to use (one that failed in this page already). */
  exclude?: readonly BackendName[];
  /** How a backend is timed (tests replace it). */
  timer?: UpdateTimer;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Starts every backend it can, times them on `config`, and leaves the fastest active. */
export async function chooseByMeasurement(config: TrainConfig, loaders: Partial<Record<BackendName, BackendLoader>>, opts: MeasureOptions = {}): Promise<BackendInfo> {
  const t0 = performance.now();
  const exclude = opts.exclude ?? [];
  const timer = opts.timer ?? ((c: TrainConfig, beat: number) => timeUpdates(c, beat));
  const skipped: string[] = exclude.map((b) => `${b}: not used after it failed`);
  const started: Omit<BackendMeasurement, 'epochsPerSec'>[] = [];
  for (const name of BACKENDS) {
    if (name === 'cpu' || !loaders[name] || exclude.includes(name)) continue;
    try {
      const adapter = await loaders[name]!();
      if (tf.getBackend() !== name) throw new Error('tfjs did not switch to it');
      started.push({ name, adapter, software: name !== 'wasm' && isSoftwareAdapter(adapter) });
    } catch (err) {
      skipped.push(`${name}: ${reason(err)}`);
    }
  }
  if (started.length === 0) {
    const fallback = await selectBackend(null, { cpu: loaders.cpu }, []);
    return { ...fallback, skipped: [...skipped, ...fallback.skipped], chosenBy: 'order', measured: [] };
  }
  const hardwareGpu = started.some((s) => s.name !== 'wasm' && !s.software);
  // Software GPUs last: they emulate on the CPU what wasm does natively.
  const order = [...started.filter((s) => !s.software), ...started.filter((s) => s.software)];
  const measured: BackendMeasurement[] = [];
  for (const s of order) {
    if (s.software && hardwareGpu) {
      measured.push({ ...s, epochsPerSec: NaN, note: 'a GPU emulated on the CPU; not timed, a hardware GPU is here' });
      continue;
    }
    try {
      await setBackendOrThrow(s.name);
      const best = s.software ? Math.max(0, ...measured.map((m) => m.epochsPerSec).filter(Number.isFinite)) : 0;
      const { epochsPerSec, atMost } = await timer(config, best);
      if (!(epochsPerSec > 0)) throw new Error(`timing gave ${epochsPerSec} epochs/s`);
      measured.push({ ...s, epochsPerSec, ...(atMost ? { atMost } : {}) });
    } catch (err) {
      measured.push({ ...s, epochsPerSec: NaN, note: `failed: ${reason(err)}` });
    }
  }
  const timed = measured.filter((m) => Number.isFinite(m.epochsPerSec)).sort((a, b) => b.epochsPerSec - a.epochsPerSec);
  const best = timed[0] ?? order[0];
  await setBackendOrThrow(best.name);
  return { name: best.name, adapter: best.adapter, requested: null, skipped, chosenBy: timed.length > 0 ? 'measurement' : 'order', measured, measureMs: performance.now() - t0 };
}
