/**
 * Grokking beyond modular addition (App. D.3, Figs. 29–34): the paper's three other tasks, each on
 * its fixed small data set or on fresh data every update, trained in a worker of their own beside
 * the run on show. "Restricting the amount of data is necessary and sufficient for grokking."
 */
import { SEQUENCE_PRESETS, SEQUENCE_PRESET_NAMES, isSequencePreset } from '../../config/sequence-presets.ts';
import { stopSequence, trainSequencePreset } from '../../client/sequence.ts';
import { formatPercent, formatValue } from '../../run/format.ts';
import { useSequenceStore, type SequenceRecord } from '../../store/sequence.ts';
import { SEQUENCE_TASKS, SKIP3_LENGTH, type SequenceTaskName } from '../../task/sequence.ts';
import { SequenceCharts } from './SequenceCharts.tsx';

/** What the model reads and is scored on, in the page's words. */
const INPUTS: Record<SequenceTaskName, string> = {
  digits5: 'a₁…a₅ + b₁…b₅ = c₁…c₆, most significant digit first; the model predicts each answer digit from the position before it (a 1-layer transformer with an MLP).',
  repeat: '85 tokens of 128 in which one random 16-token subsequence appears 3 times; the loss is on the repeated tokens that context predicts (a 2-layer attention-only transformer).',
  skip3: `${SKIP3_LENGTH} tokens of 0–19, exactly one of them ≥ 10, and the answer at the last position is that token (a 1-layer attention-only transformer; the paper gives no length: we chose ${SKIP3_LENGTH}).`,
};

const n = (x: number) => x.toLocaleString('en-US');

/** An authors' saved run on show: what the file held, and its model's measures once taken. */
function RecordStatus({ record }: { record: SequenceRecord }) {
  const message = useSequenceStore((s) => s.message);
  const m = record.measured;
  const model = !record.hasModel
    ? 'The file holds no model, only these curves.'
    : m
      ? `Their model, measured here on ${n(m.problems)} fresh problems of seed ${m.seed}: test loss ${formatValue(m.checkpoint.testLoss)}, accuracy ${formatPercent(m.checkpoint.testAcc)} per token.`
      : message
        ? `Their model could not be measured: ${message}`
        : 'Measuring their model on fresh problems…';
  return (
    <p className="hint" data-testid="seq-status">
      The authors' record <strong>{record.name}</strong>: {record.description}. {model}
    </p>
  );
}

function Status() {
  const { status, backend, checkpoints, seconds, message, trained, record } = useSequenceStore();
  if (record) return <RecordStatus record={record} />;
  if (status === 'idle' || !trained) return <p className="hint muted" data-testid="seq-status">Nothing trained here yet.</p>;
  const preset = SEQUENCE_PRESETS[trained];
  const last = checkpoints.at(-1);
  const rate = last && last.epoch > 0 && seconds > 0 ? ` · ${formatValue(last.epoch / seconds)} epochs/s` : '';
  const where = status === 'starting' ? 'starting the worker…' : `${status === 'running' ? 'training' : status} on ${backend ?? '…'}`;
  const at = last ? ` · epoch ${n(last.epoch)} of ${n(preset.epochs)}${rate} · test loss ${formatValue(last.testLoss)}, accuracy ${formatPercent(last.testAcc)}` : '';
  return (
    <p className={status === 'error' ? 'hint field-error' : 'hint'} data-testid="seq-status" role={status === 'error' ? 'alert' : undefined}>
      {preset.label}: {where}
      {at}
      {message ? ` — ${message}` : ''}
    </p>
  );
}

export function SequenceSection() {
  const preset = useSequenceStore((s) => s.preset);
  const status = useSequenceStore((s) => s.status);
  const choose = useSequenceStore((s) => s.choose);
  const busy = status === 'starting' || status === 'running';
  const record = useSequenceStore((s) => s.record);
  const p = SEQUENCE_PRESETS[preset];
  // What is on show: an authors' saved run, or the chosen preset.
  const task = record?.task ?? p.task;
  const spec = SEQUENCE_TASKS[task];
  const data = record ? '' : p.data === Infinity ? ' Fresh examples every update.' : ` ${n(p.data)} training examples.`;
  return (
    <div data-testid="sequence-room">
      <p>
        The paper: “restricting the amount of data is necessary and sufficient for grokking”. Each task trains with the mainline's AdamW (lr 10⁻³, λ = 1, betas 0.9/0.98), either on a
        fixed small set or on fresh examples every update, where train and test loss coincide and nothing groks. It trains here beside your run, which is not touched.
      </p>
      <div className="inline-fields">
        <label>
          run{' '}
          <select value={preset} disabled={busy} onChange={(e) => isSequencePreset(e.target.value) && choose(e.target.value)} data-testid="seq-preset">
            {SEQUENCE_PRESET_NAMES.map((name) => (
              <option key={name} value={name}>
                {SEQUENCE_PRESETS[name].label} ({SEQUENCE_PRESETS[name].figure})
              </option>
            ))}
          </select>
        </label>
        {busy ? (
          <button type="button" onClick={stopSequence} data-testid="seq-stop">
            Stop
          </button>
        ) : (
          <button type="button" className="primary" onClick={trainSequencePreset} data-testid="seq-train">
            Train
          </button>
        )}
      </div>
      <p className="hint" data-testid="seq-about">
        <strong>{spec.label}.</strong> {INPUTS[task]}
        {data} The paper: {spec.paper}
      </p>
      <Status />
      <SequenceCharts />
    </div>
  );
}
