/**
 * Saved runs: the current run's name and last save, export and import of whole runs (and of
 * model weights), the list of runs saved in this browser, the storage they use, and the recorded
 * runs that can be explored without training.
 */
import { useId, useRef, useState } from 'react';
import type { SavedRunMeta } from '../../store/saved-runs.ts';
import { useAppStore } from '../../store/store.ts';
import { deleteSavedRun, saveNow } from '../../client/storage/persistence.ts';
import { renameSavedRun } from '../../client/storage/rename-run.ts';
import { REFERENCE_RUNS, exportCurrentRun, openSavedRun } from '../../client/runs/run-files.ts';
import { formatInt } from '../../run/format.ts';
import { exportHistory, exportWeightsAtView } from '../../client/runs/exports.ts';
import { openRecording } from '../../client/runs/recording.ts';
import { importFiles, useFileDrop } from './file-import.ts';

export function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

export function formatAgo(t: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString('en-US', { dateStyle: 'medium' });
}

export function RunsPanel() {
  const runs = useAppStore((s) => s.savedRuns);
  const currentKey = useAppStore((s) => s.currentRunKey);
  const name = useAppStore((s) => s.currentRunName);
  const lastSaved = useAppStore((s) => s.lastSavedAt);
  const bytes = useAppStore((s) => s.storageBytes);
  const quota = useAppStore((s) => s.storageQuota);
  const epoch = useAppStore((s) => s.epoch);
  const fileRef = useRef<HTMLInputElement>(null);
  const fileId = useId();
  useFileDrop();
  return (
    <section className="panel runs" aria-label="Saved runs" data-testid="runs-panel">
      <h2>Runs</h2>
      <p className="hint">
        {name ? <strong>{name}</strong> : 'This run'}
        {lastSaved ? ` · saved ${formatAgo(lastSaved)}` : epoch > 0 ? (currentKey ? ' · saved' : ' · not saved') : ''}
      </p>
      <div className="buttons">
        <button type="button" onClick={() => void saveNow({ explicit: true })} disabled={epoch === 0} data-testid="save-now">
          Save now
        </button>
        <button type="button" onClick={() => void exportCurrentRun()} disabled={epoch === 0} data-testid="export-run" title="Download the whole run (history, snapshots, state) as one file">
          Export run
        </button>
        <details className="export-menu" data-testid="export-menu">
          <summary title="Save the history, or the weights at the viewed epoch, as files (made in this page; nothing is uploaded)">Export…</summary>
          <button type="button" onClick={() => exportHistory('csv')} disabled={epoch === 0} data-testid="export-history-csv">History (CSV)</button>
          <button type="button" onClick={() => exportHistory('json')} disabled={epoch === 0} data-testid="export-history-json">History (JSON)</button>
          <button type="button" onClick={() => void exportWeightsAtView()} data-testid="export-weights">Weights at the viewed epoch (.safetensors)</button>
        </details>
        <button type="button" onClick={() => fileRef.current?.click()} data-testid="import-button" title="Open a run file (.grokrun.gz), model weights (.safetensors) or PyTorch files (.pth: a checkpoint, a run, or several per-epoch files); or drop them on the page">
          Import…
        </button>
        <label htmlFor={fileId} className="visually-hidden">
          Import a run file or model weights
        </label>
        <input
          id={fileId}
          ref={fileRef}
          type="file"
          accept=".grokrun,.gz,.safetensors,.pth,.pt,application/octet-stream"
          multiple
          className="visually-hidden"
          data-testid="import-file"
          onChange={(e) => {
            void importFiles(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
      </div>
      <p className="hint muted">
        Explore a recorded run without training:{' '}
        {Object.entries(REFERENCE_RUNS).map(([key, ref], i) => (
          <span key={key}>
            {i > 0 ? ' · ' : ''}
            <button type="button" className="link" onClick={() => openRecording(key, (m) => window.confirm(m))} data-testid={`open-${key}`}>
              {ref.label}
            </button>
          </span>
        ))}
      </p>
      {runs.length > 0 && (
        <ul className="saved-runs" data-testid="saved-runs">
          {runs.map((r) => (
            <SavedRun key={r.key} run={r} current={r.key === currentKey} />
          ))}
        </ul>
      )}
      <p className="hint muted" data-testid="storage">
        Saved runs use {formatBytes(bytes)}
        {quota ? ` of the ${formatBytes(quota)} this browser allows the page` : ''}; above 400 MB the oldest runs' snapshots are thinned (never the latest), then the oldest runs are deleted (never the open one), and the page says what went.
      </p>
    </section>
  );
}

function SavedRun({ run, current }: { run: SavedRunMeta; current: boolean }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(run.name);
  const id = useId();
  return (
    <li className={current ? 'current' : undefined} data-testid="saved-run">
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setEditing(false);
            void renameSavedRun(run.key, text.trim() || run.name);
          }}
        >
          <label htmlFor={id} className="visually-hidden">
            Name of the run
          </label>
          <input id={id} type="text" value={text} onChange={(e) => setText(e.target.value)} autoFocus data-testid="rename-input" />
        </form>
      ) : (
        <span className="run-name">{run.name}</span>
      )}
      <span className="hint muted">
        epoch {formatInt(run.epoch)} · P {run.config.p} · λ {run.config.weightDecay} · {formatAgo(run.updatedAt)} · {formatBytes(run.bytes)}
        {run.finished ? ' · finished' : ''}
        {current ? ' · open' : ''}
      </span>
      <span className="run-actions">
        <button type="button" onClick={() => void openSavedRun(run.key)} disabled={current} data-testid="open-run">
          Open
        </button>
        <button type="button" onClick={() => setEditing(!editing)} data-testid="rename-run">
          Rename
        </button>
        <button
          type="button"
          onClick={() => {
            if (window.confirm(`Delete the saved run “${run.name}”?`)) void deleteSavedRun(run.key);
          }}
          data-testid="delete-run"
        >
          Delete
        </button>
      </span>
    </li>
  );
}
