/**
 * The Web Worker that trains. It owns the tfjs backend and the run; the page talks to it only
 * through the messages of protocol.ts.
 */
import { selectBackend } from '../model/backend-select.ts';
import { Trainer } from '../model/trainer.ts';
import { browserLoaders } from './backends.ts';
import type { BackendInfo, Command, WorkerEvent } from './protocol.ts';
import { TrainingSession } from './session.ts';

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

async function handle(cmd: Command): Promise<void> {
  if (cmd.type === 'init' && !session) {
    backend = await selectBackend(cmd.backend, browserLoaders);
    session = new TrainingSession({
      createTrainer: (config) => new Trainer(config),
      post,
      backendInfo: () => backend!,
    });
  }
  if (!session) throw new Error(`the worker got '${cmd.type}' before 'init'`);
  await session.handle(cmd);
}

scope.onmessage = (e) => {
  chain = chain.then(() => handle(e.data)).catch((err: unknown) => {
    post({ type: 'error', runId: -1, message: err instanceof Error ? err.message : String(err), fatal: !session });
  });
};

scope.addEventListener('unhandledrejection', (e) => {
  post({ type: 'error', runId: -1, message: `worker: ${String(e.reason)}`, fatal: false });
});
