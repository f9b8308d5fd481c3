/**
 * The part of `analyze` that reports §4's evidence (ANALYSIS.md §7), an intervention (`--ablate`,
 * the URL's `ablate` syntax) and one input (`--pair a,b`). Which weights are analyzed (a run
 * file's snapshot with `--epoch`) is model-file.ts's business.
 */
import type { Analyzer } from '../analysis/analyzer.ts';
import type { Outcome } from '../analysis/ablations.ts';
import { describeAblations, formatAblations, parseAblations } from '../config/ablations.ts';
import type { Trainer } from '../model/trainer.ts';
import { EvidencePass } from '../worker/analysis/evidence-pass.ts';
import { UsageError } from './node/args.ts';

export const EVIDENCE_FLAGS = ['ablate', 'pair', 'epoch'] as const;

function parsePair(raw: string | undefined, p: number): number | null {
  if (raw === undefined) return null;
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(raw);
  if (!m || Number(m[1]) >= p || Number(m[2]) >= p) throw new UsageError(`--pair must be a,b with 0 ≤ a, b < ${p}, got "${raw}"`);
  return Number(m[1]) * p + Number(m[2]);
}

const metrics = (o: Outcome) => ({ trainLoss: o.trainLoss, trainAcc: o.trainAcc, testLoss: o.testLoss, testAcc: o.testAcc });

/** The §7 fields of `analyze`, and the intervention and input when asked. */
export async function evidenceFields(trainer: Trainer, analyzer: Analyzer, keyFreqs: readonly number[], flags: Map<string, string>, epoch: number): Promise<Record<string, unknown>> {
  const cfg = trainer.config;
  const parsed = parseAblations(flags.get('ablate') ?? '', cfg.p, cfg.nHeads);
  if ('error' in parsed) throw new UsageError(`--ablate: ${parsed.error}`);
  const pair = parsePair(flags.get('pair'), cfg.p);
  const pass = new EvidencePass(trainer, analyzer);
  try {
    const prepared = pass.prepare(epoch, { epoch, ablations: parsed.ablations, pair }, keyFreqs);
    const values = (await prepared.tensor.data()) as Float32Array;
    prepared.tensor.dispose();
    const r = prepared.finish(values);
    if (r.interventionError) throw new UsageError(`--ablate: ${r.interventionError}`);
    const out: Record<string, unknown> = {
      attentionHeads: r.attentionHeads,
      ovNorms: r.ovNorms,
      directionFVE: r.directionFVE,
      lossOnlyKeyFreqs: r.lossOnlyKeyFreqs,
      lossKeyFreqsRemoved: r.lossKeyFreqsRemoved,
      lossNeuronsReplaced: r.lossNeuronsReplaced,
      testLossNeuronsReplaced: r.testLossNeuronsReplaced,
      neuronsReplaced: r.neuronsReplaced,
      lossSkipAblated: r.lossSkipAblated,
      accSkipAblated: r.accSkipAblated,
    };
    if (r.after) {
      out.intervention = { ablate: formatAblations(r.ablations), description: describeAblations(r.ablations), before: metrics(r.before), after: metrics(r.after), logitFVEAfter: r.logitFVE };
    }
    if (r.probe) {
      const top = (contrib: Float32Array) =>
        Array.from(contrib, (v, n) => ({ neuron: n, freq: r.neuronFreq[n], contribution: v }))
          .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
          .slice(0, 10);
      const view = (pr: NonNullable<typeof r.probe>) => ({
        logits: Array.from(pr.logits),
        argmax: pr.logits.indexOf(Math.max(...pr.logits)),
        attention: Array.from({ length: cfg.nHeads }, (_, h) => Array.from(pr.attention.subarray(3 * h, 3 * h + 3))),
        topNeurons: top(pr.contributions),
      });
      out.input = { a: r.probe.a, b: r.probe.b, label: r.probe.label, ...view(r.probe), after: r.probeAfter ? view(r.probeAfter) : undefined };
    }
    return out;
  } finally {
    pass.dispose();
  }
}
