/**
 * The Web Worker that trains a sweep (issue #13), beside the single run's worker: its own tfjs
 * backend (the one the page's run uses, when the page names it), so the run on show keeps training
 * or stays paused while the sweep trains. Talks to the page only through sweep-protocol.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../config/backends.ts';
import type { SweepCommand, SweepEvent } from '../run/sweep-protocol.ts';
import { browserLoaders } from './backend/loaders.ts';
import { chooseBackend } from './backend/choose.ts';
import { deviceLimits } from './backend/device-limits.ts';
import { runSweep } from './sweep/session.ts';

interface WorkerScope {
  postMessage(message: SweepEvent): void;
  onmessage: ((e: MessageEvent<SweepCommand>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (event: SweepEvent) => scope.postMessage(event);

let backend: BackendInfo | null = null;
let stopRequested = false;
let busy = false;

/** A macrotask: lets a 'stop' message in between checkpoints. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function train(cmd: Extract<SweepCommand, { type: 'train' }>): Promise<void> {
  busy = true;
  stopRequested = false;
  const start = performance.now();
  try {
    backend ??= await chooseBackend({ config: cmd.configs[0], requested: cmd.backend, cached: null, exclude: [], loaders: browserLoaders });
    const { stopped } = await runSweep(cmd, post, { backend, stopped: () => stopRequested, limits: deviceLimits(backend), yieldToMessages });
    post({ type: 'done', stopped, seconds: (performance.now() - start) / 1000 });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  } finally {
    busy = false;
  }
}

scope.onmessage = (e) => {
  const cmd = e.data;
  switch (cmd.type) {
    case 'train':
      if (busy) post({ type: 'error', message: 'a sweep is already training; stop it first' });
      else void train(cmd);
      break;
    case 'stop':
      stopRequested = true;
      break;
    default:
      cmd satisfies never;
  }
};

(self as unknown as { grokscopeSweepWorker: unknown }).grokscopeSweepWorker = { memory: () => ({ ...tf.memory(), backend: tf.getBackend() }) };
