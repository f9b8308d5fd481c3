/**
 * `precision FILE`: how far the paper's measures move when a float32 run file's snapshots are
 * stored in float16, as the shipped recordings store them (#25: float16 only where the measures
 * stay within 1e-3 of float32). Each snapshot is measured twice, from its float32 weights and from
 * the same weights rounded to float16, with the float32 key frequencies pinned for both (the
 * float16 rule's own choice is compared separately).
 */
import { Analyzer } from '../analysis/analyzer.ts';
import type { BackendName } from '../config/backends.ts';
import { readImportFile } from '../files/import-file.ts';
import { MAX_RUN_BYTES } from '../files/run-file.ts';
import { f16Tensor, readFloats } from '../files/safetensors/safetensors.ts';
import { Trainer } from '../model/trainer.ts';
import { unflattenWeights } from '../model/transformer/params.ts';
import { formatValue } from '../run/format.ts';
import { checkpointMeasures } from './analyze.ts';
import { UsageError, type ParsedArgs } from './node/args.ts';
import { startNodeBackend } from './node/backends.ts';
import { readInput } from './node/read-input.ts';

/** The bound the issue sets: a measure whose float16 value moves more is reported as over it. */
export const FLOAT16_BOUND = 1e-3;

type Measures = Awaited<ReturnType<typeof checkpointMeasures>>;

/** Losses span 1e-7…5: their difference is relative. The rest (fractions, FVE, Gini, norms) is
 * absolute up to a scale of 1 and relative beyond it. */
const RELATIVE = new Set(['trainLoss', 'testLoss', 'allLoss', 'restrictedLoss', 'excludedLoss', 'excludedLossPerFreq']);

export interface PrecisionRow {
  epoch: number;
  /** Per measure, the largest difference between float16 and float32 (see RELATIVE). */
  differences: Record<string, number>;
  /** Neurons whose dominant frequency differs, of `neurons`. */
  neuronFreqChanged: number;
  neurons: number;
  /** Whether the key-frequency rule picks the same K from the float16 weights. */
  sameKeyFreqs: boolean;
}

export function measureDifference(name: string, f16: number | number[] | Record<string, number>, f32: number | number[] | Record<string, number>): number {
  const a = typeof f16 === 'number' ? [f16] : Object.values(f16);
  const b = typeof f32 === 'number' ? [f32] : Object.values(f32);
  let most = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    most = Math.max(most, RELATIVE.has(name) ? d / Math.max(Math.abs(b[i]), 1e-30) : d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return RELATIVE.has(name) ? most : most / Math.max(1, scale);
}

function compare(f16: Measures, f32: Measures): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(f32)) {
    if (name === 'keyFreqs' || name === 'neuronFreq') continue;
    out[name] = measureDifference(name, f16[name as keyof Measures] as number, value as number);
  }
  return out;
}

export async function precisionRows(path: string, backend: BackendName | null): Promise<PrecisionRow[]> {
  const file = await readImportFile(await readInput(path, MAX_RUN_BYTES), { name: path });
  if (file.kind !== 'run') throw new UsageError(`${path} is not a run file`);
  const { run } = file;
  if (run.snapshotDtype === 'F16') throw new UsageError(`${path} stores its snapshots in float16 already; record one in float32 (train --record, the default) to compare`);
  await startNodeBackend(backend);
  const rows: PrecisionRow[] = [];
  for (const snap of run.snapshots) {
    const rounded = readFloats(f16Tensor([snap.weights.length], snap.weights));
    const measure = async (flat: Float32Array, pinned: number[] | null) => {
      const trainer = new Trainer(run.config, { weights: unflattenWeights(run.config, flat), trainIndices: run.trainIndices });
      const analyzer = new Analyzer(trainer.config, trainer.dataset);
      try {
        return await checkpointMeasures(trainer, analyzer, pinned);
      } finally {
        analyzer.dispose();
        trainer.dispose();
      }
    };
    const exact = await measure(snap.weights, null);
    const half = await measure(rounded, exact.keyFreqs);
    const halfRule = await measure(rounded, null);
    rows.push({
      epoch: snap.epoch,
      differences: compare(half, exact),
      neuronFreqChanged: exact.neuronFreq.filter((f, i) => f !== half.neuronFreq[i]).length,
      neurons: exact.neuronFreq.length,
      sameKeyFreqs: halfRule.keyFreqs.join(',') === exact.keyFreqs.join(','),
    });
  }
  return rows;
}

export async function precisionCommand(args: ParsedArgs): Promise<string[]> {
  const [path] = args.positional;
  if (!path) throw new UsageError('precision needs a run file recorded in float32');
  for (const name of args.flags.keys()) if (name !== 'json') throw new UsageError(`unknown flag --${name}`);
  const rows = await precisionRows(path, args.decoded.backend);
  if (args.flags.has('json')) return [JSON.stringify(rows, null, 1)];
  const names = Object.keys(rows[0]?.differences ?? {});
  const lines = [`float16 against float32, ${rows.length} snapshots (losses: relative; the rest: absolute, relative above 1)`];
  for (const name of names) {
    const worst = rows.reduce((w, r) => (r.differences[name] > w.differences[name] ? r : w));
    const d = worst.differences[name];
    lines.push(`  ${name.padEnd(22)} ${formatValue(d)}${d > FLOAT16_BOUND ? `  over ${formatValue(FLOAT16_BOUND)} (epoch ${worst.epoch})` : ''}`);
  }
  const neurons = rows.reduce<PrecisionRow | null>((w, r) => (!w || r.neuronFreqChanged > w.neuronFreqChanged ? r : w), null);
  if (neurons) lines.push(`  ${'neuronFreq'.padEnd(22)} at most ${neurons.neuronFreqChanged} of ${neurons.neurons} neurons change frequency (epoch ${neurons.epoch})`);
  lines.push(`  ${'keyFreqs'.padEnd(22)} ${rows.every((r) => r.sameKeyFreqs) ? 'the same at every snapshot' : `differ at epochs ${rows.filter((r) => !r.sameKeyFreqs).map((r) => r.epoch).join(', ')}`}`);
  return lines;
}
