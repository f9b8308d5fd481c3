import { describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/config/backends.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { cachedBackendChoice, rememberBackendChoice } from '../../src/client/backend-cache.ts';

/** localStorage's interface over a Map. */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

const measuredInfo: BackendInfo = {
  name: 'wasm',
  adapter: 'WebAssembly on the CPU (SIMD)',
  requested: null,
  skipped: ['webgpu: no adapter'],
  chosenBy: 'measurement',
  measured: [
    { name: 'wasm', adapter: 'WebAssembly on the CPU (SIMD)', software: false, epochsPerSec: 4.9 },
    { name: 'webgl', adapter: 'SwiftShader', software: true, epochsPerSec: 0.2 },
    { name: 'webgpu', adapter: 'x', software: true, epochsPerSec: NaN, note: 'not timed' },
  ],
};

describe('the remembered backend choice', () => {
  it('comes back for the same model size, with what was measured (NaN included)', () => {
    const storage = memoryStorage();
    rememberBackendChoice(DEFAULT_CONFIG, measuredInfo, storage);
    const got = cachedBackendChoice({ ...DEFAULT_CONFIG, weightDecay: 0, seed: 3 }, storage)!;
    expect(got.name).toBe('wasm');
    expect(got.adapter).toBe(measuredInfo.adapter);
    expect(got.skipped).toEqual(['webgpu: no adapter']);
    expect(got.measured[1].epochsPerSec).toBe(0.2);
    expect(got.measured[2].epochsPerSec).toBeNaN();
  });

  it('is not used for another model size', () => {
    const storage = memoryStorage();
    rememberBackendChoice(DEFAULT_CONFIG, measuredInfo, storage);
    expect(cachedBackendChoice({ ...DEFAULT_CONFIG, dMlp: 1024 }, storage)).toBeNull();
    expect(cachedBackendChoice({ ...DEFAULT_CONFIG, frac: 0.5 }, storage)).toBeNull();
  });

  it('remembers only choices made by measurement', () => {
    const storage = memoryStorage();
    rememberBackendChoice(DEFAULT_CONFIG, { ...measuredInfo, chosenBy: 'request', requested: 'wasm' }, storage);
    rememberBackendChoice(DEFAULT_CONFIG, { ...measuredInfo, chosenBy: 'cache' }, storage);
    expect(cachedBackendChoice(DEFAULT_CONFIG, storage)).toBeNull();
  });

  it('survives corrupt storage and a storage that refuses writes', () => {
    const storage = memoryStorage();
    storage.setItem('grokscope.backendChoice.v1', '{not json');
    expect(cachedBackendChoice(DEFAULT_CONFIG, storage)).toBeNull();
    const full = { ...memoryStorage(), setItem: () => { throw new Error('QuotaExceededError'); } } as Storage;
    expect(() => rememberBackendChoice(DEFAULT_CONFIG, measuredInfo, full)).not.toThrow();
  });
});
