import { describe, expect, it } from 'vitest';
import { describeChoice } from '../../src/ui/status/describe-backend.ts';

describe('the words for the backend choice', () => {
  const base = { adapter: 'WebAssembly', requested: null, skipped: [] };
  it('lists what was measured and what was chosen', () => {
    const measured = [
      { name: 'wasm' as const, adapter: 'a', software: false, epochsPerSec: 4.9 },
      { name: 'webgl' as const, adapter: 'b', software: true, epochsPerSec: 0.2 },
    ];
    expect(describeChoice({ ...base, name: 'wasm', chosenBy: 'measurement', measured })).toBe('wasm 4.9 epochs/s, webgl 0.2 epochs/s: chose wasm');
    expect(describeChoice({ ...base, name: 'wasm', chosenBy: 'cache', measured })).toMatch(/earlier visit\): chose wasm$/);
  });
  it('says when the link chose, or the first that started', () => {
    expect(describeChoice({ ...base, name: 'webgpu', requested: 'webgpu', chosenBy: 'request' })).toMatch(/\?backend=webgpu/);
    expect(describeChoice({ ...base, name: 'cpu' })).toMatch(/first backend that started/);
  });
});
