import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSoftwareAdapter, type BackendName } from '../../src/config/backends.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { chooseByMeasurement, timeUpdates } from '../../src/model/backend/measure.ts';
import type { BackendLoader } from '../../src/model/backend/select.ts';

/**
 * The GPU backends cannot start in Node: stand-ins are registered under their names (a CPU
 * backend object, never asked to run a kernel), and the timer says how fast each one is.
 */
const FAKE_GPUS: BackendName[] = ['webgpu', 'webgl'];

function loader(name: BackendName, adapter: string): BackendLoader {
  return async () => {
    if (!(await tf.setBackend(name))) throw new Error(`${name} did not start`);
    return adapter;
  };
}

function failing(message: string): BackendLoader {
  return async () => {
    throw new Error(message);
  };
}

/** A timer from a table of speeds, recording the order in which backends were timed. */
function tableTimer(speeds: Partial<Record<BackendName, number | Error>>) {
  const order: string[] = [];
  const beats: number[] = [];
  const timer = async (_config: TrainConfig, beat: number) => {
    const name = tf.getBackend() as BackendName;
    order.push(name);
    beats.push(beat);
    const v = speeds[name];
    if (v instanceof Error) throw v;
    return { epochsPerSec: v ?? NaN };
  };
  return { order, timer, beats };
}

const SWIFTSHADER_GL = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const NVIDIA_GL = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 (0x00002684) Direct3D11 vs_5_0 ps_5_0, D3D11)';
const config: TrainConfig = { ...DEFAULT_CONFIG, p: 7, dModel: 8, nHeads: 2, dMlp: 16, frac: 0.5 };

describe('choosing the backend by measurement', () => {
  beforeAll(async () => {
    for (const name of FAKE_GPUS) tf.registerBackend(name, () => new MathBackendCPU(), 0);
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
    for (const name of FAKE_GPUS) tf.removeBackend(name);
  });

  it('does not choose a slower backend: a software WebGL loses to wasm, and is timed after it', async () => {
    const { order, timer, beats } = tableTimer({ webgl: 0.2, wasm: 4.9 });
    const info = await chooseByMeasurement(config, { webgpu: failing('no adapter'), webgl: loader('webgl', SWIFTSHADER_GL), wasm: loader('wasm', 'WebAssembly'), cpu: loader('cpu', 'js') }, { timer });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.chosenBy).toBe('measurement');
    expect(order).toEqual(['wasm', 'webgl']);
    // The emulated GPU is told the rate to beat; wasm, timed first, is not.
    expect(beats).toEqual([0, 4.9]);
    expect(info.measured!.map((m) => [m.name, m.epochsPerSec, m.software])).toEqual([
      ['wasm', 4.9, false],
      ['webgl', 0.2, true],
    ]);
    expect(info.skipped).toEqual(['webgpu: no adapter']);
  });

  it('chooses a hardware GPU that is faster, and does not time a software one beside it', async () => {
    const { order, timer } = tableTimer({ webgpu: 300, webgl: 40, wasm: 5 });
    const info = await chooseByMeasurement(config, { webgpu: loader('webgpu', 'google swiftshader (fallback adapter)'), webgl: loader('webgl', NVIDIA_GL), wasm: loader('wasm', 'WebAssembly') }, { timer });
    expect(info.name).toBe('webgl');
    expect(order).toEqual(['webgl', 'wasm']);
    const webgpu = info.measured!.find((m) => m.name === 'webgpu')!;
    expect(webgpu.software).toBe(true);
    expect(webgpu.epochsPerSec).toBeNaN();
    expect(webgpu.note).toMatch(/hardware GPU/);
  });

  it('passes over a backend whose timing fails, saying why', async () => {
    const { timer } = tableTimer({ webgl: new Error('context lost'), wasm: 3 });
    const info = await chooseByMeasurement(config, { webgl: loader('webgl', NVIDIA_GL), wasm: loader('wasm', 'WebAssembly') }, { timer });
    expect(info.name).toBe('wasm');
    expect(info.measured!.find((m) => m.name === 'webgl')!.note).toMatch(/failed: context lost/);
  });

  it('uses cpu only when nothing else starts, and never an excluded backend', async () => {
    const { order, timer } = tableTimer({ wasm: 100, cpu: 1 });
    const info = await chooseByMeasurement(config, { webgl: failing('no WebGL'), wasm: loader('wasm', 'WebAssembly'), cpu: loader('cpu', 'js') }, { timer, exclude: ['wasm'] });
    expect(info.name).toBe('cpu');
    expect(info.chosenBy).toBe('order');
    expect(order).toEqual([]);
    expect(info.skipped).toEqual(['wasm: not used after it failed', 'webgl: no WebGL']);
  });

  it('times real updates on the active backend without leaking tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const { epochsPerSec, atMost } = await timeUpdates(config, 0, 50);
    expect(epochsPerSec).toBeGreaterThan(0);
    expect(Number.isFinite(epochsPerSec)).toBe(true);
    expect(atMost).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops after the first update when it is already far slower than the rate to beat', async () => {
    await tf.setBackend('wasm');
    let clock = 0;
    // Every reading of the clock advances it by 100 ms: the first update "takes" 100 ms (10/s).
    const now = () => (clock += 100);
    const slow = await timeUpdates(config, 1000, 400, now);
    expect(slow).toEqual({ epochsPerSec: 10, atMost: true });
    clock = 0;
    const timed = await timeUpdates(config, 15, 400, now);
    expect(timed.atMost).toBeUndefined();
  });
});

describe('software adapters', () => {
  it('are recognised by the names browsers give them', () => {
    for (const name of [SWIFTSHADER_GL, 'google swiftshader', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'Mesa lavapipe', 'Microsoft Basic Render Driver', 'Apple M2 (fallback adapter)']) {
      expect(isSoftwareAdapter(name), name).toBe(true);
    }
    for (const name of [NVIDIA_GL, 'ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)', 'nvidia ampere', 'Intel(R) UHD Graphics 620']) {
      expect(isSoftwareAdapter(name), name).toBe(false);
    }
  });
});
