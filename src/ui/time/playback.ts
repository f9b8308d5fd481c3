/**
 * Moving through a run's time: Play over the whole run in 2 min, 30 s or 8 s (snapshot to
 * snapshot, the next snapshots' heavy views asked for ahead, each frame waiting for its own), one-checkpoint steps, and the
 * one action Space stands for: train/pause a run of your own, play/pause a recording.
 */
import { create } from 'zustand';
import { commands } from '../../client/client.ts';
import { useAppStore } from '../../store/store.ts';
import { viewIndex } from '../../store/view.ts';

/**
 * Play speeds are durations a teacher can narrate over: the whole run in 2 min, 30 s or 8 s,
 * whatever its length (a 3k-epoch quick run and the 40k mainline alike), snapshot to snapshot.
 */
export const PLAY_DURATIONS = [120, 30, 8] as const;
export type PlayDuration = (typeof PLAY_DURATIONS)[number];
export const PLAY_LABELS: Record<PlayDuration, string> = { 120: '2 min', 30: '30 s', 8: '8 s' };
/**
 * A frame waits for its own heavy views (so the views keep step) at most twice its time, between
 * 250 ms and 4 s: the durations hold on a machine that computes them slower (a CPU), where a view
 * not yet computed shows the nearest one, marked as such.
 */
export function playMaxWaitMs(frameMs: number): number {
  return Math.min(4000, Math.max(250, 2 * frameMs));
}
/** Heavy views of this many next snapshots are asked for ahead of the frame that shows them. */
export const PLAY_PREFETCH = 3;

/** Milliseconds per frame for `stops` snapshots played in `duration` seconds. */
export function playFrameMs(duration: number, stops: number): number {
  return (1000 * duration) / Math.max(stops - 1, 1);
}

export const usePlayback = create<{ speed: PlayDuration; setSpeed: (speed: PlayDuration) => void }>()((set) => ({
  speed: 30,
  setSpeed: (speed) => set({ speed }),
}));

/** Moves the scrubber by `delta` checkpoints (past the last one: live again). */
export function stepView(delta: number): void {
  const s = useAppStore.getState();
  const n = s.history.length;
  if (n < 2) return;
  const i = Math.min(Math.max(viewIndex(s) + delta, 0), n - 1);
  s.setPlaying(false);
  s.setViewEpoch(i >= n - 1 ? null : s.history.column('epoch')[i]);
}

export function togglePlay(): void {
  const s = useAppStore.getState();
  if (s.history.length >= 2) s.setPlaying(!s.playing);
}

/** Space: plays/pauses a recording (or a finished run); trains/pauses a run of your own. */
export function primaryAction(): void {
  const s = useAppStore.getState();
  if (s.recording || s.status === 'done') togglePlay();
  else if (s.status === 'running') commands.pause();
  else if (s.status === 'idle' || s.status === 'paused') commands.train();
}

/**
 * The scrubber's label: "live" only for a run that trains here (a recording is never live), the
 * phase, and which snapshot's weights the heavy views show when it is not the epoch itself.
 */
export function scrubLabel(v: { epoch: number; following: boolean; recording: boolean; phase?: string; snapshot: number | null }): string {
  const n = (e: number) => e.toLocaleString('en-US');
  const live = v.following && !v.recording ? 'live · ' : '';
  const phase = v.phase ? ` · ${v.phase}` : '';
  const weights = v.snapshot !== null && !v.following && v.snapshot !== v.epoch ? ` · weights from epoch ${n(v.snapshot)}` : '';
  return `${live}epoch ${n(v.epoch)}${phase}${weights}`;
}
