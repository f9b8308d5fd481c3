/**
 * Whether the run a reload interrupted was training: a reload is no reason to stop, so Resume
 * trains on where the run was training (and opens it paused where it was paused). The flag names
 * the run that trains now; it goes when the run stops (Pause, the epoch limit, Reset), not when
 * the page goes. Any run starting in this page ends the resume offer.
 */
import { useAppStore } from '../../store/store.ts';
import { commands } from '../client.ts';

const FLAG = 'grokscope.training';

/** The run that was training when the previous page went (read once, at start). */
let trainingAtLoad: string | null = null;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: Resume opens the run paused, as before
  }
}

export function trackTraining(): void {
  trainingAtLoad = storage()?.getItem(FLAG) ?? null;
  useAppStore.subscribe(
    (s) => [s.status, s.currentRunKey] as const,
    ([status, key], [prev]) => {
      if (status === 'running') {
        if (key && !useAppStore.getState().recording) storage()?.setItem(FLAG, key);
        if (useAppStore.getState().resumeOffer) useAppStore.setState({ resumeOffer: null });
      } else if (prev === 'running') storage()?.removeItem(FLAG);
    },
    { equalityFn: (a, b) => a[0] === b[0] && a[1] === b[1] },
  );
}

export function wasTraining(key: string): boolean {
  return trainingAtLoad === key;
}

/** Trains the run `key` once it has opened (ready, under its key), if it was training; gives up after `timeoutMs`. */
export function continueTraining(key: string, timeoutMs = 120_000): void {
  if (!wasTraining(key)) return;
  trainingAtLoad = null;
  const startCount = useAppStore.getState().readyCount;
  const unsubscribe = useAppStore.subscribe((s) => {
    if (s.readyCount > startCount && s.currentRunKey === key && (s.status === 'idle' || s.status === 'paused')) {
      stop();
      commands.train();
    }
  });
  const timer = setTimeout(() => stop(), timeoutMs);
  function stop() {
    unsubscribe();
    clearTimeout(timer);
  }
}
