/**
 * The LLC over training (README "Beyond the paper"; devinterp's estimator, Lau et al. 2023): one
 * point per estimated weight snapshot, filled where the chains' traces settled and open where
 * not, and the last estimate's loss traces per chain so a person sees whether it settled. The
 * settings are shown and settable here and in the URL (`llc=`); the worker makes the estimates
 * beside training (worker/training/llc-scheduler.ts).
 */
import { useState } from 'react';
import type * as PlotlyTypes from 'plotly.js';
import { LLC_DEFAULTS, LLC_SCHEDULE_KEYS, LLC_SHARE, checkLlcValue, defaultNbeta, type LlcSchedule } from '../../config/llc.ts';
import { useLlcStore, type LlcState } from '../../store/llc.ts';
import { useAppStore, type AppState } from '../../store/store.ts';
import { COLORS } from '../plot/plotly.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';
import { X_AXIS, epochDecorations, title } from './ProgressCharts.tsx';

type Trace = Partial<PlotlyTypes.PlotData>;
const watch: Watch = (s) => [s.historyVersion, s.viewEpoch, s.readyCount];
const CHAIN_COLORS = [COLORS.blue, COLORS.vermillion, COLORS.green, COLORS.orange, COLORS.purple, COLORS.sky];

export function llcSpec(l: LlcState, app: AppState): PlotSpec {
  const pick = (settled: boolean): Trace => {
    const pts = l.points.filter((p) => p.settled === settled);
    return {
      x: pts.map((p) => p.epoch),
      y: pts.map((p) => p.llc),
      error_y: { type: 'data', array: pts.map((p) => p.error), visible: true, color: COLORS.blue, thickness: 1 },
      type: 'scatter',
      mode: 'markers',
      name: settled ? 'settled' : 'not settled',
      marker: { size: 8, color: settled ? COLORS.blue : 'white', line: { color: COLORS.blue, width: 1.5 } },
      hovertemplate: `epoch %{x:,}: LLC %{y:.4g} ± %{error_y.array:.2g} (${settled ? 'settled' : 'not settled'})<extra></extra>`,
    };
  };
  const joined: Trace = { x: l.points.map((p) => p.epoch), y: l.points.map((p) => p.llc), type: 'scatter', mode: 'lines', line: { color: COLORS.blue, width: 1 }, hoverinfo: 'skip', showlegend: false };
  const decorations = epochDecorations(app);
  const empty = l.points.length === 0;
  return {
    data: [joined, pick(true), pick(false)],
    layout: {
      title: title(empty ? 'LLC over training (no estimate yet)' : `LLC over training (${l.points.length} snapshot${l.points.length > 1 ? 's' : ''}; open: not settled)`),
      xaxis: { ...X_AXIS, range: [0, Math.max(app.history.last()?.epoch ?? 0, ...l.points.map((p) => p.epoch), 1)] },
      yaxis: { title: { text: 'LLC ± error (chains)' }, rangemode: 'tozero' },
      showlegend: false,
      ...decorations,
      datarevision: `${l.version}:${app.historyVersion}`,
    },
  };
}

/** The last estimate's chains: each draw's minibatch loss above L(w*). */
export function llcTracesSpec(l: LlcState): PlotSpec {
  const e = l.last;
  if (!e) return { data: [], layout: { title: title('Chains of the last estimate (none yet)'), xaxis: { title: { text: 'draw' } }, yaxis: { title: { text: 'L_B(w) − L(w*)' } } } };
  const data: Trace[] = e.traces.map((t, c) => ({
    x: t.map((_, i) => i + 1),
    y: t.map((v) => v - e.initLoss),
    type: 'scatter',
    mode: 'lines',
    name: `chain ${c + 1}${e.settledPerChain[c] ? '' : ' (drifting)'}`,
    line: { color: CHAIN_COLORS[c % CHAIN_COLORS.length], width: 1.2, dash: e.settledPerChain[c] ? 'solid' : 'dash' },
    hovertemplate: `chain ${c + 1}${e.settledPerChain[c] ? '' : ' (drifting)'}, draw %{x}: %{y:.3g}<extra></extra>`,
  }));
  return {
    data,
    layout: {
      title: title(`Chains at epoch ${e.epoch.toLocaleString('en-US')}: LLC ${e.llc.toPrecision(3)} ± ${e.error.toPrecision(2)}, ${e.settled ? 'settled' : 'not settled'} (dashed: a drifting chain)`),
      xaxis: { title: { text: 'draw' } },
      yaxis: { title: { text: 'L_B(w) − L(w*)' } },
      showlegend: false,
      datarevision: l.version,
    },
  };
}

function useLlcPlot(build: (l: LlcState, app: AppState) => PlotSpec) {
  const version = useLlcStore((s) => s.version);
  return useLivePlot((app) => build(useLlcStore.getState(), app), watch, undefined, version);
}

const LABELS: Record<(typeof LLC_SCHEDULE_KEYS)[number], string> = { eps: 'ε', gamma: 'γ', nbeta: 'nβ', chains: 'chains', draws: 'draws', batch: 'batch', seed: 'seed', share: 'share' };

function fieldsOf(s: LlcSchedule | null): Record<string, string> {
  return Object.fromEntries(LLC_SCHEDULE_KEYS.map((k) => [k, k === 'share' ? String(s?.share ?? LLC_SHARE) : String(s?.settings[k] ?? '')]));
}

/** The schedule the fields give, or the first problem. */
function scheduleOf(fields: Record<string, string>): LlcSchedule | string {
  const out: LlcSchedule = { settings: {}, share: LLC_SHARE };
  for (const k of LLC_SCHEDULE_KEYS) {
    const raw = fields[k].trim();
    if (raw === '') continue;
    const problem = checkLlcValue(k, Number(raw));
    if (problem) return `${LABELS[k]} ${problem}`;
    if (k === 'share') out.share = Number(raw);
    else out.settings[k] = Number(raw);
  }
  return out;
}

function LlcSettingsForm() {
  const schedule = useLlcStore((s) => s.schedule);
  const [fields, setFields] = useState(() => fieldsOf(schedule));
  const [problem, setProblem] = useState<string | null>(null);
  const apply = (on: boolean) => {
    const next = scheduleOf(fields);
    if (typeof next === 'string') return setProblem(next);
    setProblem(null);
    useLlcStore.getState().setSchedule(on ? next : null);
  };
  const placeholder = (k: string) => (k === 'nbeta' ? 'auto' : k === 'share' ? '' : String(LLC_DEFAULTS[k as keyof typeof LLC_DEFAULTS]));
  return (
    <div className="inline-fields llc-settings" data-testid="llc-settings">
      <label>
        <input type="checkbox" checked={schedule !== null} onChange={(e) => apply(e.target.checked)} data-testid="llc-on" /> estimate
      </label>
      {LLC_SCHEDULE_KEYS.map((k) => (
        <label key={k}>
          {LABELS[k]}{' '}
          <input value={fields[k]} placeholder={placeholder(k)} onChange={(e) => setFields({ ...fields, [k]: e.target.value })} onKeyDown={(e) => e.key === 'Enter' && apply(true)} aria-label={`LLC ${LABELS[k]}`} />
        </label>
      ))}
      <button type="button" onClick={() => apply(true)} data-testid="llc-apply">
        Apply
      </button>
      {problem && (
        <span className="field-error" role="alert">
          {problem}
        </span>
      )}
    </div>
  );
}

function LlcStatus() {
  const { schedule, points, settings, progress } = useLlcStore();
  const backend = useAppStore((s) => s.backend?.name ?? s.backendInHand?.name ?? null);
  const nTrain = useAppStore((s) => s.run?.nTrain ?? 0);
  const snapshots = useAppStore((s) => s.snapshotEpochs.length);
  const cpu = backend === 'wasm' || backend === 'cpu';
  const used = settings ?? (schedule && nTrain ? { ...LLC_DEFAULTS, ...schedule.settings, nbeta: schedule.settings.nbeta ?? defaultNbeta(Math.min(schedule.settings.batch ?? LLC_DEFAULTS.batch, nTrain)) } : null);
  return (
    <p className="muted small" data-testid="llc-status">
      {schedule === null
        ? 'Off. '
        : `${points.length} of ${snapshots} snapshots estimated${progress ? `; estimating epoch ${progress.epoch.toLocaleString('en-US')}, ${progress.done} of ${progress.total} draws taken` : ''}. `}
      {used &&
        `Settings: ε = ${used.eps}, γ = ${used.gamma}, nβ = ${used.nbeta.toPrecision(3)}, ${used.chains} chains × ${used.draws} draws, batch ${used.batch}, seed ${used.seed}; while training runs the estimates take at most ${Math.round((schedule?.share ?? LLC_SHARE) * 100)}% of the time, all of it while paused or on a recording. `}
      Defaults ε = {LLC_DEFAULTS.eps}, γ = {LLC_DEFAULTS.gamma}, nβ = batch/ln batch, {LLC_DEFAULTS.chains} × {LLC_DEFAULTS.draws} draws, batch {LLC_DEFAULTS.batch}, seed {LLC_DEFAULTS.seed}, share{' '}
      {LLC_SHARE * 100}%; off by default: one estimate at the defaults is {LLC_DEFAULTS.chains * LLC_DEFAULTS.draws} forward and backward passes
      {cpu ? ` — on this CPU backend (${backend}) about 12 s at P = 113 on a quiet 2-core machine, over a minute when it is busy; fewer chains or draws make it cheaper, and noisier` : ''}.
      Compare estimates only at the same settings.
    </p>
  );
}

export function LlcOverTraining() {
  const curve = useLlcPlot(llcSpec);
  const traces = useLlcPlot((l) => llcTracesSpec(l));
  return (
    <div data-testid="llc-over-training">
      <LlcSettingsForm />
      <LlcStatus />
      <div className="grid-2">
        <div ref={curve} className="chart" data-testid="llc-chart" role="img" aria-label="Local learning coefficient of the weight snapshots over epochs, with errors; open markers: not settled" />
        <div ref={traces} className="chart" data-testid="llc-traces-chart" role="img" aria-label="The last LLC estimate's chains: each draw's loss above L(w*)" />
      </div>
    </div>
  );
}
