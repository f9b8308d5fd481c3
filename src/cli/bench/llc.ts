/**
 * `npm run bench -- --llc`: the cost of one LLC estimate (analysis/llc.ts) with the defaults on a
 * seeded model of the configuration, per Node backend: seconds, ms a draw, and draws per
 * full-batch epoch of training timed in the same run (their ratio is what the machine's speed
 * cancels out of).
 */
import { LLC_DEFAULTS, estimateLLC } from '../../analysis/llc.ts';
import { transformerLlcModel } from '../../analysis/llc-model.ts';
import type { BackendName } from '../../config/backends.ts';
import type { TrainConfig } from '../../config/schema.ts';
import { Trainer } from '../../model/trainer.ts';
import { startNodeBackend } from '../node/backends.ts';

export interface LlcBenchLine {
  backend: string;
  seconds: number;
  msPerDraw: number;
  msPerEpoch: number;
  /** One estimate in epochs of training. */
  epochsPerEstimate: number;
  draws: number;
}

export async function benchLlc(config: TrainConfig, backend: BackendName): Promise<LlcBenchLine> {
  await startNodeBackend(backend);
  const trainer = new Trainer(config);
  try {
    trainer.trainStep(); // kernels compiled, weights packed
    await trainer.evaluateAsync();
    const epochs = 3;
    const t0 = performance.now();
    for (let e = 0; e < epochs; e++) trainer.trainStep();
    await trainer.lastTrainLoss!.data();
    const msPerEpoch = (performance.now() - t0) / epochs;
    const r = await estimateLLC(transformerLlcModel(trainer), {});
    const draws = LLC_DEFAULTS.chains * LLC_DEFAULTS.draws;
    return { backend, seconds: r.seconds, msPerDraw: (r.seconds * 1000) / draws, msPerEpoch, epochsPerEstimate: (r.seconds * 1000) / msPerEpoch, draws };
  } finally {
    trainer.dispose();
  }
}
