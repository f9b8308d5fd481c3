import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import { backendAdvice } from '../../src/ui/status/backend-advice.ts';

describe('the slow-backend notice (#21)', () => {
  it('offers the quick preset only while another run is set up', () => {
    expect(backendAdvice({ draft: presetConfig('mainline'), recording: null })).toEqual({ offerQuick: true, onQuick: false, offerRecorded: true });
    // Training the quick preset: no "Try the quick preset" (it is what runs).
    expect(backendAdvice({ draft: presetConfig('quick'), recording: null })).toEqual({ offerQuick: false, onQuick: true, offerRecorded: true });
    // The quick preset with one setting changed is another run again.
    expect(backendAdvice({ draft: { ...presetConfig('quick'), seed: 3 }, recording: null }).offerQuick).toBe(true);
  });

  it('offers a recorded run only while none is open', () => {
    const open = backendAdvice({ draft: presetConfig('mainline'), recording: { key: 'reference', name: 'Reference' } });
    expect(open.offerRecorded).toBe(false);
    expect(open.offerQuick).toBe(true);
  });
});
