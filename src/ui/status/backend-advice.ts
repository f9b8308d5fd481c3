/**
 * What the slow-backend notice offers, from the state it describes (pure; tested): the quick
 * preset only while another run is set up (not while the quick preset itself trains), a recorded
 * run only while none is open.
 */
import { matchPreset } from '../../config/presets.ts';
import type { AppState } from '../../store/store.ts';
import { QUICK_PRESET } from '../controls/grok-estimate.ts';

export interface BackendAdvice {
  /** "quick preset" offered as a button. */
  offerQuick: boolean;
  /** The quick preset is what is set up (or training) now. */
  onQuick: boolean;
  /** "explore a recorded run" offered. */
  offerRecorded: boolean;
}

export function backendAdvice(s: Pick<AppState, 'draft' | 'recording'>): BackendAdvice {
  const onQuick = s.recording === null && matchPreset(s.draft) === QUICK_PRESET;
  return { offerQuick: !onQuick, onQuick, offerRecorded: s.recording === null };
}
