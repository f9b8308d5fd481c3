import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/config/backends.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import type { BackendLoader } from '../../src/model/backend/select.ts';
import { chooseBackend } from '../../src/worker/backend/choose.ts';

const config: TrainConfig = { ...DEFAULT_CONFIG, p: 7, dModel: 8, nHeads: 2, dMlp: 16, frac: 0.5 };
const loaders: Partial<Record<BackendName, BackendLoader>> = {
  wasm: async () => {
    await tf.setBackend('wasm');
    return 'WebAssembly';
  },
  cpu: async () => {
    await tf.setBackend('cpu');
    return 'js';
  },
};
const cached = { name: 'cpu' as const, adapter: 'js', skipped: ['webgpu: no adapter'], measured: [{ name: 'cpu' as const, adapter: 'js', software: false, epochsPerSec: 9 }] };

describe("the worker's choice of backend", () => {
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('uses the remembered choice without timing anything when it starts on the same adapter', async () => {
    let timed = 0;
    const info = await chooseBackend({ config, requested: null, cached, exclude: [], loaders, timer: async () => ({ epochsPerSec: ++timed }) });
    expect(info).toMatchObject({ name: 'cpu', chosenBy: 'cache', requested: null, skipped: cached.skipped, measured: cached.measured });
    expect(timed).toBe(0);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('times again when the remembered backend now runs on another adapter', async () => {
    let timed = 0;
    const info = await chooseBackend({ config, requested: null, cached: { ...cached, adapter: 'another device' }, exclude: [], loaders, timer: async () => ({ epochsPerSec: ++timed }) });
    expect(info.chosenBy).toBe('measurement');
    expect(timed).toBe(1);
  });

  it('uses the backend the link asks for, without timing', async () => {
    let timed = 0;
    const info = await chooseBackend({ config, requested: 'cpu', cached: null, exclude: [], loaders, timer: async () => ({ epochsPerSec: ++timed }) });
    expect(info).toMatchObject({ name: 'cpu', chosenBy: 'request', requested: 'cpu' });
    expect(timed).toBe(0);
  });

  it('does not time a configuration too large for memory (the session refuses it, naming the limit)', async () => {
    let timed = 0;
    const info = await chooseBackend({ config: { ...DEFAULT_CONFIG, p: 257, dMlp: 4096 }, requested: null, cached: null, exclude: [], loaders, timer: async () => ({ epochsPerSec: ++timed }) });
    expect(timed).toBe(0);
    expect(info.chosenBy).toBe('order');
  });
});
