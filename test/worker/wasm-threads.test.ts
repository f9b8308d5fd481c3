/** How many threads the threaded wasm binary is given, and how its device line says so (#11). */
import { describe, expect, it } from 'vitest';
import { describeWasm } from '../../src/config/backends.ts';
import { wasmThreadCount } from '../../src/worker/backend/loaders.ts';

describe('wasm threads', () => {
  it('uses both cores of a 2-core machine and leaves one for the page on larger ones', () => {
    expect([1, 2, 3, 4, 8, 16].map(wasmThreadCount)).toEqual([1, 2, 2, 3, 7, 15]);
    // navigator.hardwareConcurrency may be missing or odd in some browsers.
    expect([0, NaN, -3, 2.5].map(wasmThreadCount)).toEqual([1, 1, 1, 2]);
  });

  it('names the thread count, and why there is one thread where the page is not isolated', () => {
    expect(describeWasm(true, 2, true)).toBe('WebAssembly on the CPU (SIMD, 2 threads)');
    expect(describeWasm(true, 1, true)).toBe('WebAssembly on the CPU (SIMD, 1 thread)');
    expect(describeWasm(false, 1, false)).toBe('WebAssembly on the CPU (no SIMD, 1 thread: the page is not cross-origin isolated)');
  });
});
