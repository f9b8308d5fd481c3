/**
 * The Web Worker that trains an appendix task (App. D.3; model/sequence) beside the run's worker,
 * on its own tfjs backend, so the run on show keeps training or stays paused meanwhile. Talks to
 * the page only through sequence-protocol.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../model/backend/select.ts';
import { SequenceTrainer, measureOnFreshProblems } from '../model/sequence/trainer.ts';
import type { SequenceCommand, SequenceEvent } from '../run/sequence-protocol.ts';
import { browserLoaders } from './backend/loaders.ts';

interface WorkerScope {
  postMessage(message: SequenceEvent): void;
  onmessage: ((e: MessageEvent<SequenceCommand>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (event: SequenceEvent) => scope.postMessage(event);

let backendName: string | null = null;
let stopRequested = false;
/** Commands run one after another: a saved model opened while a run stops is measured once it has. */
let queue: Promise<void> = Promise.resolve();

/** A macrotask: lets a 'stop' message in between epochs. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function train(cmd: Extract<SequenceCommand, { type: 'train' }>): Promise<void> {
  stopRequested = false;
  let trainer: SequenceTrainer | null = null;
  let seconds = 0;
  try {
    backendName ??= (await selectBackend(cmd.backend, browserLoaders, [])).name;
    post({ type: 'started', backend: backendName });
    trainer = new SequenceTrainer(cmd.config);
    post({ type: 'checkpoint', checkpoint: trainer.measure(), seconds });
    while (trainer.epoch < cmd.epochs && !stopRequested) {
      const start = performance.now();
      trainer.trainEpoch();
      seconds += (performance.now() - start) / 1000;
      if (trainer.epoch % cmd.every === 0 || trainer.epoch === cmd.epochs) {
        const checkpoint = trainer.measure();
        if (!Number.isFinite(checkpoint.trainLoss) || !Number.isFinite(checkpoint.testLoss)) {
          throw new Error(`the loss became ${checkpoint.trainLoss} at epoch ${checkpoint.epoch.toLocaleString('en-US')}: the run stopped there`);
        }
        post({ type: 'checkpoint', checkpoint, seconds });
      }
      await yieldToMessages();
    }
    post({ type: 'done', stopped: stopRequested, seconds });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  } finally {
    trainer?.dispose();
  }
}

/** Measures a saved model (its final weights) on fresh problems; its curves are the file's. */
async function measure(cmd: Extract<SequenceCommand, { type: 'measure' }>): Promise<void> {
  const params = new Map<string, tf.Tensor>();
  try {
    backendName ??= (await selectBackend(cmd.backend, browserLoaders, [])).name;
    post({ type: 'started', backend: backendName });
    for (const w of cmd.weights) params.set(w.name, tf.tensor(w.values, w.shape));
    const { measures } = measureOnFreshProblems(cmd.task, params, cmd.testSize, cmd.seed);
    post({ type: 'measured', checkpoint: { epoch: cmd.epoch, trainLoss: NaN, ...measures }, problems: cmd.testSize, seed: cmd.seed });
  } catch (err) {
    post({ type: 'error', message: `the saved model could not be measured: ${err instanceof Error ? err.message : String(err)}` });
  } finally {
    tf.dispose([...params.values()]);
  }
}

scope.onmessage = (e) => {
  const cmd = e.data;
  switch (cmd.type) {
    case 'train':
      queue = queue.then(() => train(cmd));
      break;
    case 'measure':
      queue = queue.then(() => measure(cmd));
      break;
    case 'stop':
      stopRequested = true;
      break;
    default:
      cmd satisfies never;
  }
};

(self as unknown as { grokscopeSequenceWorker: unknown }).grokscopeSequenceWorker = { memory: () => ({ ...tf.memory(), backend: tf.getBackend() }) };
