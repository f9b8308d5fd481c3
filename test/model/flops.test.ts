import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { epochFlops } from '../../src/model/flops.ts';
import { Trainer, type ForwardPath } from '../../src/model/trainer.ts';
import { tinyConfig, useBackend } from '../helpers.ts';

/** FLOPs of the matrix-product kernels tfjs ran, from their input and output shapes. */
async function profiledMatMulFlops(f: () => void): Promise<number> {
  const info = await tf.profile(() => {
    f();
  });
  let flops = 0;
  for (const k of info.kernels) {
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul') continue;
    const out = k.outputShapes[0] as number[];
    const a = k.inputShapes[0] as number[];
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const n = out.at(-1)!;
    // a is [.., m, k] or [.., k, m]: either way its size is batch·m·k, and batch·m = |out| / n.
    const inner = (size(a) * n) / size(out);
    flops += 2 * size(out) * inner;
  }
  return flops;
}

describe('analytic FLOPs of an epoch', () => {
  beforeAll(() => useBackend('cpu'));

  const cases: [string, ForwardPath, ReturnType<typeof tinyConfig>][] = [
    ['fast, 1 block', 'fast', tinyConfig()],
    ['general, 1 block', 'general', tinyConfig()],
    ['general, 2 blocks, P+1 outputs', 'general', tinyConfig({ nLayers: 2, vocabOut: 'p1' })],
  ];
  for (const [name, path, config] of cases) {
    it(`counts the products tfjs runs: ${name}`, async () => {
      const trainer = new Trainer(config, { forward: path });
      const counted = epochFlops(config, path);
      const train = await profiledMatMulFlops(() => trainer.trainStep());
      expect(train).toBeGreaterThan(0);
      expect(counted.train).toBe(train);
      const evaluate = await profiledMatMulFlops(() => tf.dispose(trainer.logitsAll()));
      expect(counted.evaluateAll).toBe(evaluate);
      trainer.dispose();
    });
  }

  it('puts the mainline fast path at under a third of the general path', () => {
    const fast = epochFlops(DEFAULT_CONFIG, 'fast');
    const general = epochFlops(DEFAULT_CONFIG, 'general');
    // The MLP dominates and runs on one position instead of three; q, k, v are per token.
    expect(general.train / fast.train).toBeGreaterThan(3);
    expect(general.train / fast.train).toBeLessThan(4);
    // W_in alone, forward: 2·N·d·d_mlp with N = ⌊0.3·113²⌋ = 3830.
    expect(fast.forward).toBeGreaterThan(2 * 3830 * 128 * 512 * 2);
  });
});
