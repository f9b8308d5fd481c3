/**
 * Play: steps the scrubber through the snapshots, the whole run in the chosen duration, and never
 * shows a frame before its heavy views are ready (#21 item 10: W_E at 9,350 beside W_L at 10,100).
 * The views of the next snapshots are prepared ahead into the page's cache (store.ts,
 * HEAVY_CACHE_BYTES); where this machine computes them slower than the duration asks, the playhead
 * holds at the current frame, saying how many are ready, until the rest can follow in step
 * (playLeadMs) — so the frames that are shown play at the asked speed, and a second Play of the
 * same run plays from memory at once. Every chart on screen redraws in the same task as the step
 * (useLivePlot), so no moment of the page shows two epochs.
 */
import { useEffect } from 'react';
import { commands } from '../../client/client.ts';
import { heavyBytes, heavyCapacity, useAppStore, type AppState } from '../../store/store.ts';
import { viewedSnapshot } from '../../store/view.ts';
import { PLAY_IN_FLIGHT, playFrameMs, playLeadMs, playNote, usePlayback, type PlayState } from './playback.ts';

/** A frame may start this much of a frame late before Play holds to prepare more (estimates are rough). */
const LEAD_TOLERANCE = 0.25;
/** An answer that never came is asked again after this long. */
const ASK_TIMEOUT_MS = 20_000;

/** The stops Play steps through: the snapshots (each has its own weights), else the checkpoints. */
function playStops(s: AppState): number[] {
  return s.snapshotEpochs.length > 1 ? s.snapshotEpochs : Array.from(s.history.column('epoch'));
}

/** The snapshot whose views the frame at `epoch` shows, or null when it shows none. */
function snapshotOf(s: AppState, epoch: number): number | null {
  return viewedSnapshot({ viewEpoch: epoch, history: s.history, snapshotEpochs: s.snapshotEpochs });
}

export function Player() {
  const playing = useAppStore((s) => s.playing);
  const speed = usePlayback((p) => p.speed);
  useEffect(() => {
    const { setState } = usePlayback.getState();
    const say = (state: PlayState) => {
      if (playNote(state, speed) !== playNote(usePlayback.getState().state, speed)) setState(state);
    };
    if (!playing) {
      say({ kind: 'playing' });
      return;
    }
    /** Snapshot epoch → when it was asked for (and for which run). */
    const asked = new Map<number, { runId: number; at: number }>();
    /** Milliseconds this machine takes to prepare one snapshot's views (measured from the answers). */
    let computeMs = NaN;
    let lastAnswer = -Infinity;
    /** Milliseconds the step to a frame takes (every chart on screen redraws in it). */
    let drawMs = NaN;
    // Pressed at the end (a recording's End, or after a Play): from the first snapshot again, once
    // its views are ready; until then the page stays at the frame it shows.
    const start = useAppStore.getState();
    const startStops = playStops(start);
    let restart = start.viewEpoch === null || start.viewEpoch >= startStops[startStops.length - 1];
    let shownAt = -Infinity;
    const tick = () => {
      const s = useAppStore.getState();
      const stops = playStops(s);
      if (stops.length < 2 || !s.run) return;
      const runId = s.run.runId;
      const now = performance.now();
      for (const [e, a] of asked) {
        if (a.runId !== runId || now - a.at > ASK_TIMEOUT_MS) asked.delete(e);
        else if (s.heavy.has(e)) {
          // One after another in the worker: an answer's time counts from the previous answer.
          const took = now - Math.max(a.at, lastAnswer);
          computeMs = Number.isFinite(computeMs) ? 0.6 * computeMs + 0.4 * took : took;
          lastAnswer = now;
          asked.delete(e);
        }
      }
      const frameMs = playFrameMs(speed, stops.length);
      const current = s.viewEpoch ?? stops[0];
      // frames[0] is the frame shown now (NaN: the page as it is, before a restart).
      const frames = restart ? [NaN, ...stops] : [current, ...stops.filter((e) => e > current)];
      const snaps = frames.map((e) => (Number.isNaN(e) ? null : snapshotOf(s, e)));
      const isReady = (snap: number | null) => snap === null || s.heavy.has(snap);
      // Prepared ahead only as far as the cache holds, so preparing never evicts the next frames.
      const cached = s.heavy.values().next().value;
      const window = snaps.slice(0, cached ? heavyCapacity(heavyBytes(cached)) - 1 : snaps.length);
      const ready = window.map(isReady);
      for (const snap of window) {
        if (asked.size >= PLAY_IN_FLIGHT) break;
        if (snap !== null && !isReady(snap) && !asked.has(snap)) {
          asked.set(snap, { runId, at: now });
          commands.inspect(snap);
        }
      }
      const elapsed = now - shownAt;
      // The oldest question in flight is the one the worker computes now.
      const underWay = asked.size > 0 ? now - Math.max(lastAnswer, Math.min(...[...asked.values()].map((a) => a.at))) : 0;
      const lead = playLeadMs(ready, frameMs, Number.isFinite(computeMs) ? computeMs : frameMs, Math.min(elapsed, frameMs), underWay);
      const next = frames[1];
      if (next === undefined) {
        s.setPlaying(false);
        return;
      }
      if (!ready[0] || !ready[1] || lead > LEAD_TOLERANCE * frameMs) {
        const missing = snaps.filter((x) => !isReady(x)).length;
        const total = restart ? stops.length : frames.length;
        say({ kind: 'preparing', ready: total - missing, total, leadMs: Math.max(lead, frameMs), neededSeconds: (missing * (Number.isFinite(computeMs) ? computeMs : frameMs)) / 1000 });
        return;
      }
      if (elapsed < frameMs) return;
      // Drawing slower than the frames go: the asked duration cannot hold, and the note says so.
      say(drawMs > 1.2 * frameMs ? { kind: 'drawing', drawMs, seconds: (stops.length * drawMs) / 1000 } : { kind: 'playing' });
      // On time: the next frame's time counts from this one's (the 20 ms ticks add no drift); held: from now.
      shownAt = elapsed < frameMs + 40 ? shownAt + frameMs : now;
      restart = false;
      s.setViewEpoch(next);
      const took = performance.now() - now;
      drawMs = Number.isFinite(drawMs) ? 0.7 * drawMs + 0.3 * took : took;
    };
    const timer = setInterval(tick, 20);
    return () => clearInterval(timer);
  }, [playing, speed]);
  return null;
}
