/**
 * The address bar follows the page. For a run of your own it holds the configuration (short keys,
 * as url.ts encodes it); while a recorded run is on show it holds `run=NAME` and the scrubbed epoch
 * `at=EPOCH` (and `k=` if K is pinned), so Share copies that and a reload reopens the recording
 * where it was. Writes are debounced: dragging a slider would otherwise hit the browser's history
 * rate limit.
 */
import { formatAblations } from '../config/ablations.ts';
import { encodeQuery, type DecodedUrl } from '../config/url.ts';
import { useEvidenceStore, type EvidenceState } from '../store/evidence.ts';
import { useAppStore, type AppState } from '../store/store.ts';
import { useSweepStore } from '../store/sweep.ts';
import { useLlcStore } from '../store/llc.ts';
import { useSequenceStore } from '../store/sequence.ts';
import { SEQUENCE_PRESET_NAMES, type SequencePresetName } from '../config/sequence-presets.ts';
import { formatLlcSchedule, type LlcSchedule } from '../config/llc.ts';
import { decodeSweep, encodeSweep } from '../config/sweep.ts';
import { commands } from './client.ts';

export const URL_WRITE_DELAY_MS = 150;

/** What the link asked of a recording, applied once the recording is open. */
let pending: { at: number | null; keyFreqs: number[] | null } | null = null;

/** The query string (without '?') for the page as it is now. */
export function addressQuery(s: AppState, ev: Pick<EvidenceState, 'ablations' | 'pair'> = useEvidenceStore.getState()): string {
  const rec = s.recordingRequest ?? s.recording;
  const { ablations, pair } = ev;
  if (!rec) return encodeQuery({ config: s.draft, preset: s.preset, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest, ablations, pair });
  const params = new URLSearchParams({ run: rec.key });
  const keyFreqs = s.recording ? s.keyFreqsRequest : (pending?.keyFreqs ?? null);
  if (keyFreqs) params.set('k', keyFreqs.join(','));
  const at = s.recording ? s.viewEpoch : (pending?.at ?? null);
  if (at !== null) params.set('at', String(at));
  if (s.backendRequest) params.set('backend', s.backendRequest);
  // An intervention and an input on a recording are shared with it.
  const p = s.applied?.p ?? s.draft.p;
  if (ablations.length > 0) params.set('ablate', formatAblations(ablations));
  if (pair !== null) params.set('pair', `${Math.floor(pair / p)},${pair % p}`);
  return params.toString().replace(/%2C/g, ',');
}

/** Puts the link's epoch and K on the recording that has just opened. */
function applyPending(s: AppState): void {
  if (!pending || !s.recording) return;
  const { at, keyFreqs } = pending;
  pending = null;
  if (keyFreqs) commands.setKeyFreqs(keyFreqs);
  if (at === null || s.history.length === 0) return;
  const epochs = s.history.column('epoch');
  const last = epochs[s.history.length - 1];
  // Past the recording's end: say so, instead of quietly showing the end.
  if (at > last) s.notify('info', `The link asks for epoch ${at.toLocaleString('en-US')}, but this recording ends at epoch ${last.toLocaleString('en-US')}: it shows epoch ${last.toLocaleString('en-US')}.`);
  const i = s.history.indexAtOrBefore(at);
  s.setViewEpoch(i >= s.history.length - 1 ? null : epochs[i]);
}

/** Keeps the address in step with the store from now on. */
export function startAddress(decoded: DecodedUrl): void {
  if (decoded.run) pending = { at: decoded.at, keyFreqs: decoded.keyFreqs };
  useAppStore.subscribe((s) => s.readyCount, () => applyPending(useAppStore.getState()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const query = withAppendix(withLlc(withSweep(addressQuery(useAppStore.getState()), useSweepStore.getState().text), useLlcStore.getState().schedule), useSequenceStore.getState().preset);
      const url = `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`;
      if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) window.history.replaceState(null, '', url);
    }, URL_WRITE_DELAY_MS);
  };
  const same = (a: readonly unknown[], b: readonly unknown[]) => a.every((x, i) => x === b[i]);
  useAppStore.subscribe((s) => [s.draft, s.preset, s.backendRequest, s.keyFreqsRequest, s.recording, s.recordingRequest, s.viewEpoch] as const, write, { equalityFn: same });
  useEvidenceStore.subscribe((s) => [s.ablations, s.pair] as const, write, { equalityFn: same });
  useSweepStore.subscribe((s, prev) => s.text !== prev.text && write());
  useLlcStore.subscribe((s) => s.schedule, write);
  useSequenceStore.subscribe((s, prev) => s.preset !== prev.preset && write());
}

/** The appendix-tasks room's run rides along (`appendix=`) once another than the first is chosen. */
export function withAppendix(query: string, preset: SequencePresetName): string {
  return preset === SEQUENCE_PRESET_NAMES[0] ? query : `${query ? `${query}&` : ''}appendix=${preset}`;
}

/** The LLC over training rides along (`llc=`) while it is on. */
export function withLlc(query: string, schedule: LlcSchedule | null): string {
  return schedule ? `${query ? `${query}&` : ''}llc=${formatLlcSchedule(schedule)}` : query;
}

/** The sweep in the form rides along (`sweep=`, issue #13) while it is a valid one. */
export function withSweep(query: string, text: string): string {
  const spec = text.trim() ? decodeSweep(text).spec : null;
  if (!spec) return query;
  return `${query ? `${query}&` : ''}sweep=${encodeURIComponent(encodeSweep(spec)).replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%3B/g, ';')}`;
}
