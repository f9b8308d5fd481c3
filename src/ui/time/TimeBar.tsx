/**
 * The bar that stays at the top of the page on every screen: which recording is on show, the
 * scrubber with Play, the sections, and the list of keyboard keys (also on "?").
 */
import { useCallback, useEffect, useRef, useState, type MouseEvent, type RefObject } from 'react';
import { trainRecordingYourself } from '../../client/runs/recording.ts';
import { useAppStore } from '../../store/store.ts';
import { taskHas } from '../../task/registry.ts';
import { Scrubber } from './Scrubber.tsx';
import { SHORTCUTS, useShortcuts } from './useShortcuts.ts';
import type { View } from '../../task/spec.ts';

export const SECTIONS = [
  ['training', 'Training'],
  ['circle', 'Rotation'],
  ['measures', 'Progress measures'],
  ['fourier', 'Fourier'],
  ['attention', 'Attention'],
  ['neurons', 'Neurons'],
  ['logits', 'Logits'],
  ['evidence', 'Evidence'],
  ['input', 'One input'],
  ['sweep', 'Many runs'],
] as const satisfies readonly (readonly [View, string])[];

function RecordingLine() {
  const recording = useAppStore((s) => s.recording);
  const opening = useAppStore((s) => s.recordingRequest);
  const pieces = useAppStore((s) => (s.recordingSnapshots?.key === s.recording?.key ? s.recordingSnapshots : null));
  if (opening) return <p className="recording-line" data-testid="recording-line">Opening the recorded run “{opening.name}”…</p>;
  if (!recording) return null;
  return (
    <p className="recording-line" data-testid="recording-line">
      <strong>{recording.name}</strong> — recorded, not training.{' '}
      {pieces ? (
        <span data-testid="recording-snapshots" title="The curves are all here; the weight snapshots the views need arrive one by one, the nearest to the scrubber first">
          Snapshots {pieces.loaded}/{pieces.total} loaded
          {pieces.failed > 0 ? ` (${pieces.failed} failed)` : ''}.{' '}
        </span>
      ) : null}
      <button type="button" className="link" onClick={trainRecordingYourself}>
        Train this configuration yourself
      </button>
    </p>
  );
}

function KeyHelp({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    ref.current?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <div className="key-help" role="dialog" aria-modal="false" aria-labelledby="key-help-title" tabIndex={-1} ref={ref} data-testid="key-help">
      <h2 id="key-help-title">Keyboard</h2>
      <dl>
        {SHORTCUTS.map(([key, what]) => (
          <div key={key}>
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <button type="button" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

/** Publishes the bar's height as --bar-h, so a section reached from the nav lands below the bar. */
function useBarHeight(ref: RefObject<HTMLDivElement | null>): void {
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const publish = () => document.documentElement.style.setProperty('--bar-h', `${Math.ceil(el.getBoundingClientRect().height)}px`);
    const observer = new ResizeObserver(publish);
    observer.observe(el);
    publish();
    return () => observer.disconnect();
  }, [ref]);
}

export function TimeBar() {
  const [help, setHelp] = useState(false);
  // On a phone the bar is one row (Play, the scrubber, this menu); the rest opens from the menu.
  const [menu, setMenu] = useState(false);
  const toggleHelp = useCallback(() => setHelp((h) => !h), []);
  const closeHelp = useCallback(() => setHelp(false), []);
  useShortcuts(toggleHelp, closeHelp);
  const task = useAppStore((s) => (s.applied ?? s.draft).task);
  const bar = useRef<HTMLDivElement>(null);
  useBarHeight(bar);
  const go = (e: MouseEvent, id: string) => {
    // Close the menu first, then scroll: the section lands below the (now one-row) bar.
    e.preventDefault();
    setMenu(false);
    requestAnimationFrame(() => {
      const section = document.getElementById(id);
      if (!section) return;
      // Measured now: the bar's --bar-h may still hold the open menu's height.
      const barPx = bar.current?.getBoundingClientRect().height ?? 0;
      window.scrollTo({ top: section.getBoundingClientRect().top + window.scrollY - barPx - 8 });
      history.replaceState(history.state, '', `${location.pathname}${location.search}#${id}`);
    });
  };
  return (
    <div className={menu ? 'sticky-bar menu-open' : 'sticky-bar'} data-testid="time-bar" ref={bar}>
      <button type="button" className="bar-menu-button" aria-expanded={menu} aria-label={menu ? 'Close the menu' : 'More: speeds, steps, Branch, sections'} onClick={() => setMenu(!menu)} data-testid="bar-menu">
        {menu ? '✕' : '☰'}
      </button>
      <RecordingLine />
      <Scrubber />
      <div className="bar-row">
        <nav className="toc" aria-label="Sections" data-testid="toc">
          {SECTIONS.filter(([id]) => taskHas(task, id)).map(([id, label]) => (
            <a key={id} href={`#${id}`} onClick={(e) => go(e, id)}>
              {label}
            </a>
          ))}
        </nav>
        <button type="button" className="keys-button" onClick={toggleHelp} aria-expanded={help} data-testid="keys-button" title="Keyboard keys (?)">
          Keys ?
        </button>
      </div>
      {help && <KeyHelp onClose={closeHelp} />}
    </div>
  );
}
