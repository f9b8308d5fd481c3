/**
 * Keyboard: Space trains/pauses (plays/pauses a recording), ←/→ step the scrubber by one
 * checkpoint, ? lists the keys, Esc closes the list. Keys typed into a field, a button or a slider
 * keep their own meaning there.
 */
import { useEffect } from 'react';
import { primaryAction, stepView } from './playback.ts';

export const SHORTCUTS: [key: string, what: string][] = [
  ['Space', 'train / pause (play / pause a recording)'],
  ['← →', 'step the scrubber one checkpoint back / forward'],
  ['?', 'show or hide this list'],
  ['Esc', 'close this list'],
];

function ownsKeys(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) return true;
  // Space presses a focused button or link; arrows keep moving a focused slider or list.
  return key === ' ' && ['BUTTON', 'A', 'SUMMARY'].includes(target.tagName);
}

export function useShortcuts(toggleHelp: () => void, closeHelp: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || ownsKeys(e.target, e.key)) return;
      if (e.key === ' ') primaryAction();
      else if (e.key === 'ArrowLeft') stepView(-1);
      else if (e.key === 'ArrowRight') stepView(1);
      else if (e.key === '?') toggleHelp();
      else if (e.key === 'Escape') closeHelp();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [toggleHelp, closeHelp]);
}
