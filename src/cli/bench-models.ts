/**
 * `npm run bench -- --models N`: N seeds of the configuration trained batched (one update for all)
 * against the same N trained one after another, in models·epochs/s, in the same run
 * (src/worker/bench-batched.ts), per Node backend.
 */
import type { BackendName } from '../config/backends.ts';
import type { TrainConfig } from '../config/schema.ts';
import { benchBatched } from '../worker/bench-batched.ts';
import { UsageError } from './args.ts';
import { startNodeBackend } from './backends.ts';

export async function benchModels(config: TrainConfig, n: number, backends: BackendName[], s: { blocks: number; targetBlockMs: number }, json: boolean, log: (s: string) => void): Promise<void> {
  for (const name of backends) {
    if (name !== 'wasm' && name !== 'cpu') throw new UsageError(`Node runs the wasm and cpu backends, not ${name}`);
    const info = await startNodeBackend(name);
    log(`${name}: ${n} seeds of P = ${config.p}, d_model ${config.dModel}, d_mlp ${config.dMlp}: batched against one after another, ${s.blocks} interleaved rounds…`);
    const configs = Array.from({ length: n }, (_, i) => ({ ...config, seed: config.seed + i }));
    const r = await benchBatched({ configs, rounds: s.blocks, targetBlockMs: s.targetBlockMs });
    if (json) process.stdout.write(`${JSON.stringify({ ...r, adapter: info.adapter })}\n`);
    else {
      process.stdout.write(
        `${name}: ${n} models batched ${r.batchedMsPerEpoch.toFixed(1)} ms/update = ${r.batchedModelEpochsPerSec.toFixed(1)} models·epochs/s; ` +
          `one after another ${r.singleMsPerEpoch.reduce((a, b) => a + b, 0).toFixed(1)} ms = ${r.sequentialModelEpochsPerSec.toFixed(1)} models·epochs/s; ` +
          `batched ${r.speedup.toFixed(2)}× (tensors Δ ${r.numTensorsDelta})\n`,
      );
    }
  }
}
