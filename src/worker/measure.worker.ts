/**
 * Times the backends this browser offers on the run's configuration, beside the training worker,
 * so Train works from the first paint (#25): the training worker starts on the backend in hand
 * and moves to the one this worker finds fastest. It answers once and is then ended.
 */
import type { MeasureAnswer, MeasureRequest } from '../run/protocol.ts';
import { chooseBackend } from './backend/choose.ts';
import { browserLoaders } from './backend/loaders.ts';

interface MeasureScope {
  postMessage(message: MeasureAnswer): void;
  onmessage: ((e: MessageEvent<MeasureRequest>) => void) | null;
}
const scope = self as unknown as MeasureScope;

scope.onmessage = (e) => {
  const { config, exclude } = e.data;
  chooseBackend({ config, requested: null, cached: null, exclude, loaders: browserLoaders })
    .then((backend) => scope.postMessage({ type: 'chosen', backend }))
    .catch((err: unknown) => scope.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) }));
};
