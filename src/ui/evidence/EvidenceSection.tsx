/**
 * §4's evidence in the paper's order — §4.1 attention (Table 2, Fig. 10, 11), §4.2 logits and W_L
 * (Table 1, the u_k/v_k fits), §4.3 frequency ablations (Table 4), §4.4 neurons and the skip
 * connection (Fig. 6, Table 6) — each live number next to what the paper reports (ANALYSIS.md §6,
 * §7), then the same measures over training.
 */
import type { ReactNode } from 'react';
import { formatPercent, formatValue } from '../../run/format.ts';
import type { EvidenceResult } from '../../run/evidence.ts';
import { useEvidenceStore } from '../../store/evidence.ts';
import { useAppStore } from '../../store/store.ts';
import { AttentionFitMaps, EvidenceFveChart, EvidenceLossChart, OvSpectra } from './EvidenceCharts.tsx';

function Row({ what, live, paper }: { what: ReactNode; live: ReactNode; paper: ReactNode }) {
  return (
    <tr>
      <th scope="row">{what}</th>
      <td className="num">{live}</td>
      <td className="paper">{paper}</td>
    </tr>
  );
}

function Table({ caption, children, testId }: { caption: string; children: ReactNode; testId: string }) {
  return (
    <table className="evidence-table" data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col" />
          <th scope="col">this run</th>
          <th scope="col">paper</th>
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

const pct = (x: number) => formatPercent(x);
/** An FVE of a fit without intercept is negative when the target's mean is far from 0 (§7.2: y = A − 0.5). */
const fvePct = (x: number) => (x < 0 ? '< 0' : formatPercent(x));

function Attention({ r }: { r: EvidenceResult }) {
  return (
    <>
      <h3>§4.1 Attention: each head is periodic in a at one key frequency</h3>
      <p className="explain">
        For each head, y = attention('=' → a) − 0.5 is fitted by α(cos w_k a − cos w_k b) + β(sin w_k a − sin w_k b) for every k; the head's frequency is the best fit.
      </p>
      <table className="evidence-table" data-testid="attention-fits">
        <caption>Table 2: attention fits (FVE = 1 − SS_res/SS_tot)</caption>
        <thead>
          <tr>
            <th scope="col">head</th>
            <th scope="col">k</th>
            <th scope="col">α</th>
            <th scope="col">β</th>
            <th scope="col">FVE</th>
            <th scope="col">k in K?</th>
          </tr>
        </thead>
        <tbody>
          {r.attentionHeads.map((h, i) => (
            <tr key={i}>
              <th scope="row">{i}</th>
              <td className="num">{h.freq}</td>
              <td className="num">{h.alpha.toFixed(3)}</td>
              <td className="num">{h.beta.toFixed(3)}</td>
              <td className="num">{fvePct(h.fve)}</td>
              <td>{r.keyFreqs.includes(h.freq) ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Paper: every head is well fit by one key frequency (Table 2, Fig. 10).</p>
      <AttentionFitMaps />
      <OvSpectra />
      <p className="muted">Fig. 11: the OV circuits are sparse in the Fourier basis, concentrated on the key frequencies.</p>
    </>
  );
}

function Logits({ r }: { r: EvidenceResult }) {
  const cos = r.keyFreqs.map((k) => r.directionFVE[k]?.cos ?? NaN);
  const sin = r.keyFreqs.map((k) => r.directionFVE[k]?.sin ?? NaN);
  return (
    <>
      <h3>§4.2 Logits and W_L: cos(w_k(a+b−c)) terms, read off by u_k and v_k</h3>
      <Table caption="Table 1: the K terms cos(w_k(a+b−c)) in the logits" testId="logit-table">
        <Row what="fraction of logit variance explained by the K terms" live={pct(r.logitFVE)} paper="95%" />
        {r.keyFreqs.map((k) => (
          <Row key={k} what={`coefficient of cos(w_${k}(a+b−c)) (unit direction)`} live={formatValue(r.cosCoefficients[k - 1])} paper="—" />
        ))}
      </Table>
      <Table caption="§4.2: ⟨MLP(a, b), u_k⟩ fitted by cos(w_k(a+b)), ⟨MLP(a, b), v_k⟩ by sin(w_k(a+b))" testId="direction-table">
        {r.keyFreqs.map((k, i) => (
          <Row key={k} what={`k = ${k}: u_k (cos), v_k (sin)`} live={`${pct(cos[i])}, ${pct(sin[i])}`} paper="> 90%" />
        ))}
      </Table>
    </>
  );
}

function Ablations({ r }: { r: EvidenceResult }) {
  const orig = r.before.allLoss;
  return (
    <>
      <h3>§4.3 Ablations in the Fourier basis</h3>
      <Table caption="Table 4: loss over all P² pairs, logits per output c in the 2-D Fourier basis of (a, b)" testId="frequency-ablation-table">
        <Row what="the model" live={formatValue(orig)} paper="2.4e-7 (test, 40k epochs)" />
        <Row what="only the key frequencies' components kept" live={formatValue(r.lossOnlyKeyFreqs)} paper="lower than the model's (4.7e-8)" />
        <Row what="the key frequencies' components removed" live={formatValue(r.lossKeyFreqsRemoved)} paper={`at or above chance (ln P = ${formatValue(Math.log(r.p))})`} />
      </Table>
      <h3>§4.4 Neurons and the skip connection</h3>
      <Table caption="Fig. 6: each neuron with FVE > 0.85 replaced by its frequency's 3×3 block" testId="neuron-ablation-table">
        <Row what="neurons replaced" live={`${r.neuronsReplaced} of ${r.dMlp}`} paper="433 of 512" />
        <Row what="loss over all pairs" live={`${formatValue(orig)} → ${formatValue(r.lossNeuronsReplaced)}`} paper="barely changes" />
        <Row what="test loss" live={`${formatValue(r.before.testLoss)} → ${formatValue(r.testLossNeuronsReplaced)}`} paper="barely changes" />
      </Table>
      <Table caption="Table 6: the residual stream around the MLP replaced by its mean over pairs" testId="skip-table">
        <Row what="loss over all pairs" live={`${formatValue(orig)} → ${formatValue(r.lossSkipAblated)}`} paper="stays small: the skip carries little" />
        <Row what="accuracy over all pairs" live={`${pct(r.before.allAcc)} → ${pct(r.accSkipAblated)}`} paper="stays near 100%" />
      </Table>
    </>
  );
}

export function EvidenceSection() {
  const r = useEvidenceStore((s) => s.answer);
  const pending = useAppStore((s) => s.run === null);
  return (
    <div className="evidence" data-testid="evidence">
      {r ? (
        <>
          <p className="explain">
            Measured on the checkpoint of epoch {r.epoch.toLocaleString('en-US')} with K = {'{'}
            {r.keyFreqs.join(', ')}
            {'}'}. The paper's numbers are for its mainline run (P = 113, seed 0, 40k epochs).
          </p>
          <Attention r={r} />
          <Logits r={r} />
          <Ablations r={r} />
        </>
      ) : (
        <p className="muted">{pending ? 'Waiting for the run…' : 'Measuring the evidence of this checkpoint…'}</p>
      )}
      <h3>Over training</h3>
      <div className="grid-2">
        <EvidenceFveChart />
        <EvidenceLossChart />
      </div>
    </div>
  );
}
