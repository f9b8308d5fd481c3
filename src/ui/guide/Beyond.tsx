/**
 * One line for each knob and measure from after the paper, with its source, and what this run
 * uses (README "Beyond the paper").
 */
import { formatPercent } from '../../run/format.ts';
import { CLOCK_PIZZA_REFERENCE } from '../../run/clock-pizza.ts';
import { useAppStore } from '../../store/store.ts';

export function GuideBeyond() {
  const applied = useAppStore((s) => s.applied);
  const sc = useAppStore((s) => {
    const col = s.history.column('softmaxCollapse');
    return col.length > 0 ? col[col.length - 1] : NaN;
  });
  const clockPizza = useAppStore((s) => {
    const at = (name: 'distanceIrrelevance' | 'gradientSymmetricity') => s.history.column(name).findLast(Number.isFinite) ?? NaN;
    return `${at('distanceIrrelevance')},${at('gradientSymmetricity')}`;
  });
  const [q, sym] = clockPizza.split(',').map(Number);
  if (!applied) return null;
  const { loss, orthoGrad, weightNorm, initScale, weightDecay, attnRate } = applied;
  return (
    <aside className="guide" data-testid="guide-beyond">
      <h3>Beyond the paper</h3>
      <ul>
        <li>
          <strong>Softmax collapse</strong> (Prieto et al. 2025, “Grokking at the edge of numerical stability”): the share of training pairs whose float32 loss is exactly 0, so
          that a float32 framework's gradient there vanishes{Number.isFinite(sc) ? ` — this run, now: ${formatPercent(sc)}` : ''}. The loss curves here are{' '}
          {loss === 'stablemax' ? 'StableMax’s' : 'softmax’s'} cross-entropy, the loss this run trains on.
        </li>
        <li>
          <strong>⊥Grad</strong> (same paper): {orthoGrad ? 'on' : 'off'} — each weight tensor's gradient loses its component along the weights, rescaled to its norm, so
          training cannot just scale the logits up; with it a run can grok at λ = 0{orthoGrad && weightDecay > 0 ? ` (this run also has λ = ${weightDecay})` : ''}.
        </li>
        <li>
          <strong>StableMax</strong> (same paper): {loss === 'stablemax' ? 'on' : 'off'} — s(x) = x + 1 or 1/(1 − x) in place of eˣ, which grows slowly enough that
          p_y never rounds to 1.
        </li>
        <li>
          <strong>Constrained weight norm</strong> (Liu, Michaud &amp; Tegmark 2023, “Omnigrok”):{' '}
          {weightNorm > 0 ? `‖θ‖₂ held at ${weightNorm}` : 'off'}
          {initScale !== 1 ? `, init scaled by ${initScale}` : ''} — at the right norm a model generalizes without weight decay; the chart of weight norm against test
          accuracy shows where this run travels.
        </li>
        <li>
          <strong>Attention rate</strong> (Zhong et al. 2023, “The Clock and the Pizza”): α = {attnRate} — attention is α·softmax + (1 − α) on every key;{' '}
          {attnRate === 1 ? 'the paper’s attention.' : 'below 1 the model leans on constant attention, where their “pizza” algorithm appears instead of the clock.'}
        </li>
        <li>
          <strong>Clock or pizza</strong> (same paper, their notebook's definitions): distance irrelevance q — how little the correct logit depends on a − b (clock{' '}
          {CLOCK_PIZZA_REFERENCE.clock.distanceIrrelevance}, pizza {CLOCK_PIZZA_REFERENCE.pizza.distanceIrrelevance}) — and gradient symmetricity s — the cosine between the
          correct logit's gradients at the embeddings of a and of b (clock {CLOCK_PIZZA_REFERENCE.clock.gradientSymmetricity}, pizza{' '}
          {CLOCK_PIZZA_REFERENCE.pizza.gradientSymmetricity}), measured with the heavy analysis
          {Number.isFinite(q) ? ` — this run, last measured: q = ${q.toFixed(3)}, s = ${sym.toFixed(3)}` : ''}.
        </li>
        <li>
          <strong>Local learning coefficient</strong> (singular learning theory; Lau et al. 2023, devinterp's SGLD estimator): how many effective directions the loss
          has around the weights — a regular model with d parameters has d/2, a simpler solution less. Below, each weight snapshot's LLC over training (SGLD chains from
          the snapshot, pulled back to it by γ; LLC = nβ·(mean chain loss − L(w*))), and the last estimate's chains: a trace that still climbs has not settled.
        </li>
      </ul>
    </aside>
  );
}
