/**
 * The appendix tasks' curves (App. D.3, Figs. 29–34), from the room's store: train and test loss,
 * per-token test accuracy, and the task's own measure over training — digits5's loss per answer
 * digit (Fig. 29 bottom: each digit has its own phase change), repeat's previous-token and
 * induction score per head (the induction heads forming, Olsson et al. 2022), skip3's attention
 * from the last position to the token ≥ 10.
 */
import type * as PlotlyTypes from 'plotly.js';
import type { SequenceCheckpoint } from '../../model/sequence/config.ts';
import { shownTask, useSequenceStore, type SequenceState } from '../../store/sequence.ts';
import { COLORS } from '../plot/plotly.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';
import { X_AXIS, title } from '../charts/ProgressCharts.tsx';

type Trace = Partial<PlotlyTypes.PlotData>;
/** Eight colours: repeat's 2 layers × 4 heads each get their own. */
const PALETTE = [COLORS.blue, COLORS.vermillion, COLORS.green, COLORS.orange, COLORS.purple, COLORS.sky, COLORS.grey, '#111111'];
/** The room's charts redraw on its own version, not on the run on show. */
const watchNothing: Watch = () => [];

function line(cps: SequenceCheckpoint[], y: (c: SequenceCheckpoint) => number | undefined, name: string, color: string, dash: 'solid' | 'dot' = 'solid'): Trace {
  const ys = cps.map((c) => y(c) ?? NaN);
  return {
    x: cps.map((c) => c.epoch),
    y: ys,
    type: 'scatter',
    // A first checkpoint alone, or a saved model's one measured point, is a marker, not an invisible line.
    mode: ys.filter(Number.isFinite).length < 3 ? 'lines+markers' : 'lines',
    name,
    line: { color, width: 1.6, dash },
    hovertemplate: `${name}, epoch %{x:,}: %{y:.4g}<extra></extra>`,
  };
}

const xAxis = (cps: SequenceCheckpoint[]) => ({ ...X_AXIS, range: [0, Math.max(1, cps.at(-1)?.epoch ?? 1)] });

export function lossSpec(s: SequenceState): PlotSpec {
  const cps = s.checkpoints;
  return {
    data: [line(cps, (c) => c.trainLoss, 'train', COLORS.blue), line(cps, (c) => c.testLoss, 'test (fresh examples)', COLORS.vermillion)],
    layout: { title: title(cps.length ? 'Loss' : 'Loss (press Train)'), xaxis: xAxis(cps), yaxis: { title: { text: 'cross-entropy' }, type: 'log', exponentformat: 'power' }, datarevision: s.version },
  };
}

export function accuracySpec(s: SequenceState): PlotSpec {
  const cps = s.checkpoints;
  return {
    data: [line(cps, (c) => c.testAcc, 'test, per token', COLORS.vermillion)],
    layout: { title: title('Test accuracy, per predicted token'), xaxis: xAxis(cps), yaxis: { title: { text: 'accuracy' }, range: [0, 1.02], tickformat: '.0%' }, showlegend: false, datarevision: s.version },
  };
}

/** The task's own measure, one line per answer digit or per head. */
export function taskSpecOf(s: SequenceState): PlotSpec {
  const cps = s.checkpoints;
  const task = shownTask(s);
  const base = { xaxis: xAxis(cps), datarevision: s.version };
  if (task === 'digits5') {
    const digits = cps[0]?.perTokenLoss?.length ?? 6;
    const data = Array.from({ length: digits }, (_, j) => line(cps, (c) => c.perTokenLoss?.[j], `digit ${j + 1}${j === 0 ? ' (most significant)' : ''}`, PALETTE[j % PALETTE.length]));
    return { data, layout: { ...base, title: title('Test loss of each answer digit (Fig. 29 bottom)'), yaxis: { title: { text: 'cross-entropy' }, type: 'log', exponentformat: 'power' } } };
  }
  if (task === 'repeat') {
    const layers = cps[0]?.inductionScore?.length ?? 2;
    const heads = cps[0]?.inductionScore?.[0]?.length ?? 4;
    const data: Trace[] = [];
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < heads; h++) {
        const color = PALETTE[(l * heads + h) % PALETTE.length];
        // One legend entry per head (a phone has room for 8, not 16); its two lines toggle together.
        const group = `head ${l}.${h}`;
        data.push({ ...line(cps, (c) => c.inductionScore?.[l]?.[h], `induction ${l}.${h}`, color), legendgroup: group, name: group });
        data.push({ ...line(cps, (c) => c.prevTokenScore?.[l]?.[h], `previous token ${l}.${h}`, color, 'dot'), legendgroup: group, showlegend: false });
      }
    }
    return { data, layout: { ...base, title: title('Each head (layer.head): induction score (solid), previous-token score (dotted)'), yaxis: { title: { text: 'mean attention' }, range: [0, 1.02] } } };
  }
  const heads = cps[0]?.specialTokenAttention?.length ?? 4;
  const data = Array.from({ length: heads }, (_, h) => line(cps, (c) => c.specialTokenAttention?.[h], `head ${h}`, PALETTE[h % PALETTE.length]));
  return { data, layout: { ...base, title: title('Attention from the last position to the token ≥ 10, per head'), yaxis: { title: { text: 'mean attention' }, range: [0, 1.02] } } };
}

function useSequencePlot(build: (s: SequenceState) => PlotSpec) {
  const version = useSequenceStore((s) => s.version);
  return useLivePlot(() => build(useSequenceStore.getState()), watchNothing, undefined, version);
}

export function SequenceCharts() {
  const loss = useSequencePlot(lossSpec);
  const accuracy = useSequencePlot(accuracySpec);
  const measure = useSequencePlot(taskSpecOf);
  return (
    <>
      <div className="grid-2">
        <div ref={loss} className="chart" data-testid="seq-loss-chart" role="img" aria-label="The appendix task's train and test loss over epochs" />
        <div ref={accuracy} className="chart" data-testid="seq-acc-chart" role="img" aria-label="The appendix task's per-token test accuracy over epochs" />
      </div>
      <div ref={measure} className="chart" data-testid="seq-task-chart" role="img" aria-label="The appendix task's own measure over epochs" />
    </>
  );
}
