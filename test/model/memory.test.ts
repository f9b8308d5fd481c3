/**
 * The memory check at the paper's larger modulus (Fig. 25, P = 401): accepted by the form, and on
 * every backend either fitting or refused with the limit it breaks named; for sweeps too.
 */
import { describe, expect, it } from 'vitest';
import { decodeQuery } from '../../src/config/url.ts';
import { presetConfig } from '../../src/config/presets.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { CPU_LIMITS, checkMemory, gpuLimits, memoryNeeds } from '../../src/model/memory.ts';
import { checkBatchMemory, largestBatch } from '../../src/model/batched/memory.ts';
import { batchProblem } from '../../src/model/batched/batched-trainer.ts';

const p401 = presetConfig('p401');

describe('P = 401 and the memory check', () => {
  it('the URL takes P = 401 (and the preset), and the check sizes it from its shapes', () => {
    expect(decodeQuery('?p=401').config.p).toBe(401);
    expect(decodeQuery('?preset=p401').config).toEqual(p401);
    const needs = memoryNeeds(p401);
    // The largest tensor is the neurons of all 401² = 160,801 pairs, [160801, 512] float32.
    expect(needs.largestTensorBytes).toBe(4 * 401 * 401 * 512);
    expect(needs.largestTensor).toMatch(/MLP activations of all 160,801 pairs/);
    // The total grows with the pairs: P = 401 needs (401/113)² ≈ 12.6 times what P = 113 does, roughly.
    const ratio = needs.totalBytes / memoryNeeds(DEFAULT_CONFIG).totalBytes;
    expect(ratio).toBeGreaterThan(10);
    expect(ratio).toBeLessThan(14);
  });

  it('names the limit it breaks on every backend', () => {
    expect(checkMemory(DEFAULT_CONFIG, CPU_LIMITS.wasm)).toBeNull();
    expect(checkMemory(p401, CPU_LIMITS.wasm)).toMatch(/^P = 401, d_model = 128, d_mlp = 512 needs about [\d,]+ MB, but WebAssembly can use at most 4,096 MB \(its 32-bit heap of 4 GB\)/);
    expect(checkMemory(p401, CPU_LIMITS.cpu)).toMatch(/the JavaScript CPU backend can use at most 4,096 MB/);
    expect(checkMemory(p401, gpuLimits('webgl', 'any'))).toMatch(/WebGL can use at most/);
    // WebGPU's default 128 MB binding cannot hold the 314 MB neurons; a GPU reporting 2 GB can.
    expect(checkMemory(p401, gpuLimits('webgpu', 'test GPU'))).toMatch(/needs 314 MB for the MLP activations .* this GPU \(test GPU\) allows at most 128 MB per tensor \(maxStorageBufferBindingSize\)/);
    const big = gpuLimits('webgpu', 'test GPU', { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 32 });
    expect(checkMemory(p401, big)).toBeNull();
    // Beyond 401 the form accepts primes the device may refuse: P = 1021's logits exceed WASM's tensor limit.
    expect(decodeQuery('?p=1021').config.p).toBe(1021);
    expect(checkMemory({ ...DEFAULT_CONFIG, p: 1021 }, CPU_LIMITS.wasm)).toMatch(/P = 1021 .* WebAssembly allows at most 1,024 MB per tensor/);
  });

  it('for sweeps: refuses a batch too large, naming how many models, and finds the largest that fits', () => {
    const big = gpuLimits('webgpu', 'test GPU', { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 });
    expect(checkBatchMemory(p401, 1, big)).toBeNull();
    // 314 MB of neurons per model: 4 models need 1,256 MB in one tensor, over the 1,024 MB binding.
    expect(checkBatchMemory(p401, 4, big)).toMatch(/^4 models of P = 401, d_mlp = 512 need 1,256 MB .* at most 1,024 MB per tensor \(maxStorageBufferBindingSize\)\. Train fewer models at once\./);
    // Three would fit per tensor, but the total binds: two models' training plus one analysis pass
    // are over the 8 GB a tab can ask of a GPU.
    expect(checkBatchMemory(p401, 2, big)).toMatch(/^2 models of P = 401, d_model = 128, d_mlp = 512 need about [\d,]+ MB, but this GPU \(test GPU\) can use at most 8,192 MB/);
    expect(largestBatch(p401, 8, big)).toBe(1);
    expect(largestBatch(p401, 8, CPU_LIMITS.wasm)).toBe(0);
  });

  it('trains the two loss precisions in separate batches (one gradient per batch)', () => {
    expect(batchProblem([DEFAULT_CONFIG, { ...DEFAULT_CONFIG, seed: 1 }])).toBeNull();
    expect(batchProblem([DEFAULT_CONFIG, { ...DEFAULT_CONFIG, lossPrecision: 'f32' }])).toBe('models trained together must share lossPrecision; got high, f32');
  });
});
