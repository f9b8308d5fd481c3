/**
 * The Web Worker that trains. It owns the tfjs backend and the run; the page talks to it only
 * through the messages of protocol.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo, BackendName } from '../config/backends.ts';
import { Trainer } from '../model/trainer.ts';
import type { BatchedBenchResult, BenchResult, Command, WorkerEvent } from '../run/protocol.ts';
import { browserLoaders } from './backend/loaders.ts';
import { chooseBackend } from './backend/choose.ts';
import { selectBackend } from '../model/backend/select.ts';
import { CPU_LIMITS, checkMemory } from '../model/memory.ts';
import { deviceLimits } from './backend/device-limits.ts';
import { benchTraining } from './bench/bench.ts';
import { benchBatched } from './bench/batched.ts';
import { TrainingSession } from './training/session.ts';

interface WorkerScope {
  postMessage(message: WorkerEvent): void;
  onmessage: ((e: MessageEvent<Command>) => void) | null;
  addEventListener(type: 'unhandledrejection', fn: (e: PromiseRejectionEvent) => void): void;
}
const scope = self as unknown as WorkerScope;
const post = (event: WorkerEvent) => scope.postMessage(event);

let backend: BackendInfo | null = null;
let session: TrainingSession | null = null;
/** Messages are handled strictly in order, including the asynchronous backend start. */
let chain: Promise<void> = Promise.resolve();

/** Device errors never throw in tfjs: listen for them, or a broken kernel fails silently. */
function watchWebGpuDevice(): void {
  const device = (tf.backend() as unknown as { device?: EventTarget & { lost?: Promise<{ message: string; reason: string }> } }).device;
  if (!device) return;
  let reported = 0;
  device.addEventListener('uncapturederror', (e) => {
    if (reported++ > 2) return;
    const message = (e as unknown as { error?: { message?: string } }).error?.message ?? 'unknown error';
    post({ type: 'error', runId: -1, message: `WebGPU reported an error; results may be wrong: ${message}`, fatal: false });
    void session?.handle({ type: 'pause' });
  });
  void device.lost?.then((info) => {
    // The weights on the GPU are gone; the page restarts the worker on the next backend and
    // continues from the last save.
    post({ type: 'error', runId: -1, fault: 'device-lost', fatal: true, message: `The GPU device was lost (${info.reason || 'unknown reason'}${info.message ? `: ${info.message}` : ''}).` });
  });
}

/** Fault injection for the tests (reachable only through the 'debug' command). */
function debug(action: 'crash' | 'poison' | 'lose-device'): void {
  if (action === 'crash') {
    setTimeout(() => {
      throw new Error('deliberate crash (debug command)');
    });
  } else if (action === 'lose-device') {
    (tf.backend() as unknown as { device?: { destroy(): void } }).device?.destroy();
  }
}

/** Pauses the run (it is kept) and times training on this backend with a fresh trainer. */
async function bench(s: TrainingSession, cmd: Extract<Command, { type: 'bench' }>): Promise<void> {
  await s.handle({ type: 'pause' });
  await s.idle();
  const results: BenchResult[] = [];
  let batched: BatchedBenchResult | undefined;
  let error: string | undefined;
  try {
    if (cmd.models) {
      const configs = Array.from({ length: cmd.models }, (_, i) => ({ ...cmd.config, seed: cmd.config.seed + i }));
      batched = await benchBatched({ configs, rounds: cmd.blocks, targetBlockMs: cmd.targetBlockMs });
    }
    for (const path of cmd.models ? [] : cmd.paths) {
      results.push(await benchTraining({ config: cmd.config, path, blocks: cmd.blocks, targetBlockMs: cmd.targetBlockMs, analysis: cmd.analysis && path === cmd.paths[0], analysisOnly: cmd.analysisOnly }));
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  post({ type: 'bench', runId: -1, requestId: cmd.requestId, backend: backend!, results, batched, error });
}

/**
 * The backend in hand while the page's measuring worker times the others (#25): wasm, which
 * starts in a moment and runs natively on every CPU; the run moves once the timing ends.
 */
async function provisionalBackend(exclude: BackendName[]): Promise<BackendInfo> {
  const info = await selectBackend('wasm', browserLoaders, exclude);
  return { ...info, requested: null, chosenBy: 'provisional' };
}

/** Makes the measured backend the active one (moveBackend); loads it if it is not loaded yet. */
async function switchBackend(next: BackendInfo): Promise<void> {
  if (tf.getBackend() !== next.name) {
    const loader = browserLoaders[next.name];
    if (!loader) throw new Error(`${next.name} is not available in this worker`);
    await loader();
    if (tf.getBackend() !== next.name) throw new Error(`tfjs did not switch to ${next.name}`);
    if (next.name === 'webgpu') watchWebGpuDevice();
  }
  backend = { ...next };
}

async function handle(cmd: Command): Promise<void> {
  if (cmd.type === 'init' && !session) {
    const config = cmd.run?.config ?? cmd.config;
    // A configuration too large for the CPU's memory waits for the choice (choose.ts says why).
    backend = cmd.provisional && !cmd.backend && !checkMemory(config, CPU_LIMITS.wasm)
      ? await provisionalBackend(cmd.exclude ?? [])
      : await chooseBackend({
          config,
          requested: cmd.backend,
          cached: cmd.cachedBackend ?? null,
          exclude: cmd.exclude ?? [],
          loaders: browserLoaders,
        });
    if (backend.name === 'webgpu') watchWebGpuDevice();
    session = new TrainingSession({
      createTrainer: (config, init) => new Trainer(config, init),
      post,
      backendInfo: () => backend!,
      limits: () => deviceLimits(backend),
      durableCheckpoints: true,
      switchBackend,
    });
  }
  if (!session) throw new Error(`the worker got '${cmd.type}' before 'init'`);
  if (cmd.type === 'debug') debug(cmd.action);
  if (cmd.type === 'bench') return bench(session, cmd);
  // Queued, not awaited: commands chained behind the build reach the session's own queue now, so
  // it sees a Train that waits for the build (measure-scheduler.ts puts its timings off).
  void session.handle(cmd);
}

scope.onmessage = (e) => {
  // Once the session exists it orders commands itself; handing them over at once lets it see that
  // a newer Reset is waiting and skip the rest of a superseded build's first measures.
  const cmd = e.data;
  if (session && cmd.type !== 'init' && cmd.type !== 'bench') {
    if (cmd.type === 'debug') debug(cmd.action);
    void session.handle(cmd);
    return;
  }
  chain = chain.then(() => handle(e.data)).catch((err: unknown) => {
    post({ type: 'error', runId: -1, message: err instanceof Error ? err.message : String(err), fatal: !session });
  });
};

// A read-only handle for tests and the curious: the backend's tensor count and memory.
(self as unknown as { grokscopeWorker: unknown }).grokscopeWorker = {
  memory: () => ({ ...tf.memory(), backend: tf.getBackend() }),
};

scope.addEventListener('unhandledrejection', (e) => {
  post({ type: 'error', runId: -1, message: `worker: ${String(e.reason)}`, fatal: false });
});
