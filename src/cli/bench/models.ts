/**
 * `npm run bench -- --models N`: N seeds of the configuration trained batched (one update for all)
 * against the same N trained one after another, in models·epochs/s, in the same run
 * (src/worker/bench/batched.ts), per backend: Node's wasm and cpu, or with --browser the page's
 * worker in Chromium (webgpu, webgl, wasm), where WebGPU's dispatches per update are counted too.
 */
import type { BackendName } from '../../config/backends.ts';
import type { TrainConfig } from '../../config/schema.ts';
import type { BatchedBenchResult } from '../../run/protocol.ts';
import { benchBatched } from '../../worker/bench/batched.ts';
import { UsageError } from '../node/args.ts';
import { startNodeBackend } from '../node/backends.ts';
import { benchInPage, inBrowser } from './browser.ts';

function describe(name: string, r: BatchedBenchResult): string {
  const dispatches = r.dispatchesBatched === null ? '' : `; dispatches an update: ${r.dispatchesBatched} batched, ${r.dispatchesSingle} single`;
  const ceiling = r.ceiling === null ? '' : `; the batched update's matrix products alone take ${r.batchedProductMs!.toFixed(1)} ms, so batching gains at most ${r.ceiling.toFixed(2)}×`;
  return (
    `${name}: ${r.models} models batched ${r.batchedMsPerEpoch.toFixed(1)} ms/update = ${r.batchedModelEpochsPerSec.toFixed(1)} models·epochs/s; ` +
    `one after another ${r.singleMsPerEpoch.reduce((a, b) => a + b, 0).toFixed(1)} ms = ${r.sequentialModelEpochsPerSec.toFixed(1)} models·epochs/s; ` +
    `batched ${r.speedup.toFixed(2)}×${dispatches}${ceiling} (tensors Δ ${r.numTensorsDelta})`
  );
}

export async function benchModels(config: TrainConfig, n: number, backends: BackendName[], browser: boolean, s: { blocks: number; targetBlockMs: number }, json: boolean, log: (s: string) => void): Promise<void> {
  const print = (name: string, adapter: string, r: BatchedBenchResult) => process.stdout.write(json ? `${JSON.stringify({ ...r, adapter })}\n` : `${describe(name, r)}\n`);
  const intro = (name: string) => log(`${name}: ${n} seeds of P = ${config.p}, d_model ${config.dModel}, d_mlp ${config.dMlp}: batched against one after another, ${s.blocks} interleaved rounds…`);
  if (browser) {
    await inBrowser(backends, log, async (page, backend) => {
      intro(backend.name);
      const answer = await benchInPage(page, { config, paths: [], blocks: s.blocks, targetBlockMs: s.targetBlockMs, analysis: false, models: n });
      if (!answer.batched) throw new Error(`${backend.name}: no result`);
      print(backend.name, backend.adapter, answer.batched);
    });
    return;
  }
  for (const name of backends) {
    if (name !== 'wasm' && name !== 'cpu') throw new UsageError(`Node runs the wasm and cpu backends, not ${name} (add --browser)`);
    const info = await startNodeBackend(name);
    intro(name);
    const configs = Array.from({ length: n }, (_, i) => ({ ...config, seed: config.seed + i }));
    print(name, info.adapter, await benchBatched({ configs, rounds: s.blocks, targetBlockMs: s.targetBlockMs }));
  }
}
