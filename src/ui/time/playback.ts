/**
 * Moving through a run's time: Play at ×1, ×4 or ×16 (snapshot to snapshot, waiting for each
 * frame's heavy views up to a limit that shrinks with the speed), one-checkpoint steps, and the
 * one action Space stands for: train/pause a run of your own, play/pause a recording.
 */
import { create } from 'zustand';
import { commands } from '../../client/client.ts';
import { useAppStore } from '../../store/store.ts';
import { viewIndex } from '../../store/view.ts';

/** Time per frame of the history animation at ×1 (it also waits for each frame's heavy analysis). */
export const PLAY_FRAME_MS = 350;
/** … but not longer than this for one, at ×1. */
export const PLAY_MAX_WAIT_MS = 4000;
export const PLAY_SPEEDS = [1, 4, 16] as const;
export type PlaySpeed = (typeof PLAY_SPEEDS)[number];

export const usePlayback = create<{ speed: PlaySpeed; setSpeed: (speed: PlaySpeed) => void }>()((set) => ({
  speed: 1,
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
