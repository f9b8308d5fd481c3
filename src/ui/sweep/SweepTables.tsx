/**
 * The paper's tables over the sweep's runs (App. C, Tables 3–6, src/run/seed-tables.ts), from the
 * final weights the sweep worker measured: each table says which runs it covers, which it left
 * out and why, and what the paper reports.
 */
import type { ReactNode } from 'react';
import { formatPercent, formatValue } from '../../run/format.ts';
import { seedTables, type MeanSd, type SeedTables } from '../../run/seed-tables.ts';
import { useSweepStore, type SweepRun } from '../../store/sweep.ts';

/** Why a run of the page's sweep has no final measures. */
function whyNone(r: SweepRun): string {
  if (r.finalProblem) return `not measured: ${r.finalProblem}`;
  // A sweep read from a file, or kept from before the page loaded, comes without them.
  return r.summary ? 'not measured here (shown from a file or from before this page loaded)' : 'not trained yet';
}

/** The tables of the page's sweep, or null while no run has final measures. */
export function pageTables(runs: SweepRun[]): SeedTables | null {
  const finals = runs.flatMap((r) => (r.final ? [r.final] : []));
  if (finals.length === 0) return null;
  return seedTables(finals, runs.length, runs.filter((r) => !r.final).map((r) => ({ point: r.label, why: whyNone(r) })));
}

const ms = (x: MeanSd, f: (v: number) => string) => `${f(x.mean)} ± ${Number.isFinite(x.sd) ? f(x.sd) : '–'}`;

function Table({ id, t, head, children }: { id: string; t: { table: string; covers: string; paper: string }; head: string[]; children: ReactNode }) {
  return (
    <div className="sweep-table">
      <table className="evidence-table" data-testid={id}>
        <caption>{t.table}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
      <p className="muted small" data-testid={`${id}-covers`}>
        Covers {t.covers}. Paper: {t.paper}.
      </p>
    </div>
  );
}

export function SweepTables() {
  useSweepStore((s) => s.version);
  const runs = useSweepStore((s) => s.runs);
  const t = pageTables(runs);
  if (!t) return null;
  const { table3, table4, table5, table6 } = t;
  const v = formatValue;
  const pct = formatPercent;
  return (
    <div className="sweep-tables" data-testid="sweep-tables">
      <h3>The tables over runs (App. C), at each run's final weights</h3>
      <Table id="table5" t={table5} head={['run', 'epoch', 'test loss', 'Gini W_E', 'Gini W_L', 'K', 'logit FVE', 'neurons explained']}>
        {table5.rows.map((r) => (
          <tr key={r.point}>
            <th scope="row">{r.point}</th>
            <td className="num">{r.epoch}</td>
            <td className="num">{v(r.testLoss)}</td>
            <td className="num">{r.giniWE.toFixed(3)}</td>
            <td className="num">{r.giniWL.toFixed(3)}</td>
            <td>{r.keyFreqs.join(', ')}</td>
            <td className="num">{pct(r.logitFVE)}</td>
            <td className="num">{pct(r.neuronsExplained)}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">mean ± sd</th>
          <td />
          <td className="num">{ms(table5.summary.testLoss, v)}</td>
          <td className="num">{ms(table5.summary.giniWE, (x) => x.toFixed(3))}</td>
          <td className="num">{ms(table5.summary.giniWL, (x) => x.toFixed(3))}</td>
          <td />
          <td className="num">{ms(table5.summary.logitFVE, pct)}</td>
          <td className="num">{ms(table5.summary.neuronsExplained, pct)}</td>
        </tr>
      </Table>
      <Table id="table3" t={table3} head={['run', 'k', 'u_k by cos(w_k(a+b))', 'v_k by sin(w_k(a+b))']}>
        {table3.rows.flatMap((r) =>
          r.fits.map((f, i) => (
            <tr key={`${r.point}-${f.k}`}>
              <th scope="row">{i === 0 ? r.point : ''}</th>
              <td className="num">{f.k}</td>
              <td className="num">{pct(f.cos)}</td>
              <td className="num">{pct(f.sin)}</td>
            </tr>
          )),
        )}
        <tr>
          <th scope="row">all fits</th>
          <td />
          <td className="num" colSpan={2}>
            smallest {pct(table3.summary.min)}, mean {pct(table3.summary.mean)}
          </td>
        </tr>
      </Table>
      <Table id="table4" t={table4} head={['run', 'loss (all pairs)', 'only key frequencies', 'key frequencies removed']}>
        {table4.rows.map((r) => (
          <tr key={r.point}>
            <th scope="row">{r.point}</th>
            <td className="num">{v(r.loss)}</td>
            <td className="num">{v(r.lossOnlyKeyFreqs)}</td>
            <td className="num">{v(r.lossKeyFreqsRemoved)}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">mean ± sd</th>
          <td className="num">{ms(table4.summary.loss, v)}</td>
          <td className="num">{ms(table4.summary.lossOnlyKeyFreqs, v)}</td>
          <td className="num">{ms(table4.summary.lossKeyFreqsRemoved, v)}</td>
        </tr>
      </Table>
      <Table id="table6" t={table6} head={['run', 'loss (all pairs)', 'loss, skip mean-ablated', 'accuracy, skip mean-ablated']}>
        {table6.rows.map((r) => (
          <tr key={r.point}>
            <th scope="row">{r.point}</th>
            <td className="num">{v(r.loss)}</td>
            <td className="num">{v(r.lossSkipAblated)}</td>
            <td className="num">{pct(r.accSkipAblated)}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">mean ± sd</th>
          <td />
          <td className="num">{ms(table6.summary.lossSkipAblated, v)}</td>
          <td className="num">{ms(table6.summary.accSkipAblated, pct)}</td>
        </tr>
      </Table>
    </div>
  );
}
