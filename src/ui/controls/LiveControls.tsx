/**
 * The settings that apply while training: weight decay λ on a log slider with 0 reachable (the
 * paper's key knob: no decay, no grokking), and the learning rate.
 */
import { useEffect, useId, useState, type CSSProperties } from 'react';
import { commands } from '../../client/client.ts';
import { checkField } from '../../config/schema.ts';
import { formatValue } from '../../run/format.ts';
import { useAppStore } from '../../store/store.ts';
import { WEIGHT_DECAY_LABELS, WEIGHT_DECAY_STOPS, nearestStop } from './weight-decay-stops.ts';

export function LiveControls() {
  // A recording previewed from its file, before the worker has it: its own settings, not the draft's.
  const wd = useAppStore((s) => (s.recordingRequest?.config ?? s.draft).weightDecay);
  const lr = useAppStore((s) => (s.recordingRequest?.config ?? s.draft).lr);
  const watching = useAppStore((s) => (s.recording !== null || s.recordingRequest !== null) && s.status !== 'running');
  const sliderId = useId();
  // λ and lr act on training: a recording only says what it was trained with (Branch here changes them for a new run).
  if (watching) {
    return (
      <section className="panel" aria-label="Live settings" data-testid="recorded-settings">
        <p className="hint muted">
          Recorded with weight decay λ = {formatValue(wd)} and learning rate {formatValue(lr)}; Branch here (in the time bar) trains on from any snapshot with others.
        </p>
      </section>
    );
  }
  return (
    <section className="panel" aria-label="Live settings">
      <h2>Live settings</h2>
      <div className="field">
        <label htmlFor={sliderId}>
          weight decay λ <output data-testid="wd-value">{formatValue(wd)}</output>
        </label>
        <input
          id={sliderId}
          type="range"
          min={0}
          max={WEIGHT_DECAY_STOPS.length - 1}
          step={1}
          value={nearestStop(wd)}
          aria-valuetext={`λ = ${formatValue(wd)}`}
          data-testid="wd-slider"
          onChange={(e) => commands.setLive({ weightDecay: WEIGHT_DECAY_STOPS[Number(e.target.value)] })}
        />
        {/* Each label sits over its own stop (the stops are not evenly spaced in λ) and sets exactly it. */}
        <div className="scale muted" data-testid="wd-scale">
          {WEIGHT_DECAY_LABELS.map(([value, text]) => (
            <button
              key={value}
              type="button"
              className="scale-stop"
              style={{ '--at': nearestStop(value) / (WEIGHT_DECAY_STOPS.length - 1) } as CSSProperties}
              aria-label={`set λ to ${formatValue(value)}`}
              data-testid={`wd-stop-${value}`}
              onClick={() => commands.setLive({ weightDecay: value })}
            >
              {text}
            </button>
          ))}
        </div>
      </div>
      <NumberField label="learning rate" field="lr" value={lr} onCommit={(v) => commands.setLive({ lr: v })} testId="lr-input" />
      <p className="hint muted">Both apply at the next update; the Adam moments are kept.</p>
    </section>
  );
}

/** A numeric input that commits on Enter or blur, and only valid values. */
export function NumberField(props: {
  label: string;
  field: Parameters<typeof checkField>[0];
  value: number;
  onCommit: (v: number) => void;
  testId?: string;
  disabled?: boolean;
}) {
  const { label, field, value, onCommit, testId, disabled } = props;
  const [text, setText] = useState(String(value));
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  useEffect(() => {
    setText(String(value));
    setError(null);
  }, [value]);
  const commit = () => {
    const trimmed = text.trim();
    const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
    const problem = checkField(field, Number.isNaN(v) ? trimmed : v);
    if (problem) {
      setError(`${label} ${problem}`);
      return;
    }
    setError(null);
    if (v !== value) onCommit(v);
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        value={text}
        disabled={disabled}
        aria-invalid={error !== null}
        aria-describedby={error ? `${id}-error` : undefined}
        data-testid={testId}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') {
            setText(String(value));
            setError(null);
          }
        }}
      />
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
