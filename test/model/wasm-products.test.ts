/**
 * The per-model product kernel of batched training on wasm (src/model/batched/wasm-products.ts):
 * each model's slice of `[M, n, k]·[M, k, m]` is the single run's 2-D product of that model's
 * operands, bit for bit, and the views it registers with the wasm module leave nothing behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { perModelMatMul } from '../../src/model/batched/wasm-products.ts';
import { numTensors, useBackend } from '../helpers.ts';

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

describe('perModelMatMul (wasm)', () => {
  it("gives each model its own 2-D product's float32 values, exactly", async () => {
    await useBackend('wasm');
    // Shapes of the mainline's products, smaller: tall, wide and one-row operands.
    for (const [M, n, k, m] of [
      [3, 37, 16, 40],
      [5, 1, 32, 96],
      [2, 64, 9, 1],
    ]) {
      const a = seeded([M, n, k], n);
      const b = seeded([M, k, m], m);
      const batched = perModelMatMul(a as tf.Tensor3D, b as tf.Tensor3D);
      expect(batched.shape).toEqual([M, n, m]);
      const got = await batched.data();
      for (let i = 0; i < M; i++) {
        const ai = tf.reshape(tf.slice(a, [i, 0, 0], [1, n, k]), [n, k]) as tf.Tensor2D;
        const bi = tf.reshape(tf.slice(b, [i, 0, 0], [1, k, m]), [k, m]) as tf.Tensor2D;
        const want = await tf.matMul(ai, bi).data();
        expect(Array.from(got.subarray(i * n * m, (i + 1) * n * m))).toEqual(Array.from(want));
      }
      tf.dispose([a, b, batched]);
    }
  });

  it('refuses operands whose model axes or inner sizes disagree', async () => {
    await useBackend('wasm');
    const a = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const b = tf.zeros([3, 4, 5]) as tf.Tensor3D;
    const c = tf.zeros([2, 5, 5]) as tf.Tensor3D;
    expect(() => perModelMatMul(a, b)).toThrow(/per-model product/);
    expect(() => perModelMatMul(a, c)).toThrow(/per-model product/);
    tf.dispose([a, b, c]);
  });

  it('keeps the tensor count and the wasm heap flat over many calls', async () => {
    await useBackend('wasm');
    // b's packed copy is 64 KiB a model: were the views' XNNPACK operators kept, 2,000 of them
    // would grow the wasm heap by ~128 MiB.
    const a = seeded([4, 50, 64], 1) as tf.Tensor3D;
    const b = seeded([4, 64, 256], 2) as tf.Tensor3D;
    const warm = perModelMatMul(a, b);
    await warm.data();
    warm.dispose();
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const tensors = numTensors();
    const bytes = tf.memory().numBytes;
    const heapBefore = heap();
    for (let r = 0; r < 500; r++) {
      tf.tidy(() => {
        perModelMatMul(a, b);
      });
    }
    expect(numTensors()).toBe(tensors);
    expect(tf.memory().numBytes).toBe(bytes);
    expect(heap() - heapBefore).toBeLessThan(16 * 2 ** 20);
    tf.dispose([a, b]);
  });
});
