/**
 * `inspect FILE`: checks any file the page can import with the page's own reading code
 * (src/files/import-file.ts, gzip streamed through Node's zlib with the page's limit) and says what
 * it is — kind, configuration, epochs, snapshots — or, in one line, why the page refuses it. A run
 * file is also checked for integrity: its configuration must reproduce its own recorded loss.
 * Exit status 0: the page opens it; 2: the page refuses it. Nothing else.
 */
import { basename } from 'node:path';
import { encodeQuery } from '../config/url.ts';
import { matchPreset } from '../config/presets.ts';
import { numParams } from '../model/transformer/params.ts';
import { formatInt, formatPercent, formatValue } from '../run/format.ts';
import { decodeSweep, describePoint, expandSweep } from '../config/sweep.ts';
import type { PackedSweep } from '../files/packed-sweep.ts';
import { readImportFile, type ImportedFile } from '../files/import-file.ts';
import type { SequenceImport } from '../files/torch/sequence-import.ts';
import { SEQUENCE_TASKS } from '../task/sequence.ts';
import { integrityCheck } from '../run/integrity.ts';
import { MAX_RUN_BYTES } from '../files/run-file.ts';
import { checkRecordedLoss } from '../run/recompute-loss.ts';
import { UsageError, type ParsedArgs } from './node/args.ts';
import { startNodeBackend } from './node/backends.ts';
import { readInput } from './node/read-input.ts';

export interface InspectResult {
  code: 0 | 2;
  /** Lines for standard output (code 0) or the one line for standard error (code 2). */
  lines: string[];
}


function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 1000);
}

function describeConfig(c: Parameters<typeof numParams>[0]): string {
  const preset = matchPreset(c);
  const query = encodeQuery({ config: c, preset, backend: null, keyFreqs: null });
  return `${query || '(the mainline defaults)'}  [P = ${c.p}, d_model ${c.dModel}, ${c.nHeads} heads, d_mlp ${c.dMlp}, ${c.nLayers} layer${c.nLayers > 1 ? 's' : ''}, ${c.act}, task ${c.task}; ${formatInt(numParams(c))} parameters]`;
}

/** One line per run of a sweep: its point, its epochs, its final losses and accuracy where the file has them. */
function sweepRunLines(w: PackedSweep): string[] {
  const spec = decodeSweep(w.sweep).spec!;
  const { points } = expandSweep(w.base, spec);
  const last = (xs: number[]) => xs.findLast(Number.isFinite);
  const v = (x: number | undefined) => (x === undefined ? '–' : formatValue(x));
  return w.runs.map(({ index, history: h }) => {
    const acc = last(h.map((r) => r.testAcc));
    return `  ${describePoint(spec, points[index].at)}: epochs ${formatInt(h[0].epoch)} … ${formatInt(h.at(-1)!.epoch)} (${formatInt(h.length)} rows), final train loss ${v(last(h.map((r) => r.trainLoss)))}, test loss ${v(last(h.map((r) => r.testLoss)))}${acc === undefined ? '' : `, test accuracy ${formatPercent(acc)}`}`;
  });
}

/** A loss curve in one line: its length, first and last values, its least. */
function curveLine(what: string, xs: number[] | null): string[] {
  const v = xs?.filter(Number.isFinite) ?? [];
  if (!xs || v.length === 0) return [];
  return [`${what}: ${formatInt(xs.length)} steps, from ${formatValue(v[0])} to ${formatValue(v.at(-1)!)} (least ${formatValue(v.reduce((a, b) => Math.min(a, b), Infinity))})`];
}

/** An authors' appendix-task file (files/torch/sequence-import.ts). */
function sequenceLines(label: string, q: SequenceImport): string[] {
  const spec = SEQUENCE_TASKS[q.task];
  const m = spec.model;
  const weights = q.weights ? [...q.weights.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0) : 0;
  return [
    `kind: ${label}`,
    `task: ${q.task} (${spec.label}); the paper: ${spec.paper}`,
    `model: ${q.weights ? `${m.nLayers} layer${m.nLayers > 1 ? 's' : ''}, d_model ${m.dModel}, ${m.nHeads} heads of ${m.dHead}, ${m.dMlp ? `d_mlp ${m.dMlp}` : 'attention only'}, ${spec.nCtx} positions, vocabulary ${spec.vocab} → ${spec.vocabOut}; ${formatInt(weights)} parameters` : 'none in the file (loss curves only)'}`,
    `data: ${q.data === null ? 'not stated' : q.data === Infinity ? 'fresh examples every step (train and test loss coincide)' : `${formatInt(q.data)} training examples`}`,
    ...Object.entries(q.configs).map(([k, c]) => `${k}: ${Object.entries(c).map(([a, b]) => `${a}=${String(b)}`).join(', ')}`),
    ...curveLine('train loss', q.trainLosses),
    ...curveLine('test loss', q.testLosses),
    `read: ${oneLine(q.description)}`,
    q.weights ? `analyze measures its model on fresh problems (npm run cli -- analyze FILE [--test-size N] [--seed S]); the page does not show the appendix's tasks yet` : "the page does not show the appendix's tasks yet; these curves are the authors' record",
  ];
}

async function describe(file: ImportedFile): Promise<InspectResult> {
  if (file.kind === 'checkpoint') {
    const k = file.checkpoint;
    return {
      code: 0,
      lines: [
        `kind: ${file.label}`,
        `configuration: ${describeConfig(k.config)}`,
        `epoch: ${formatInt(k.epoch)}`,
        `split: ${k.trainIndices ? `train_indices in the file (${formatInt(k.trainIndices.length)} pairs)` : 'the seeded split of its configuration'}`,
        'the page opens it as a new run starting from these weights (fresh Adam moments)',
      ],
    };
  }
  if (file.kind === 'sweep') {
    const w = file.sweep;
    return {
      code: 0,
      lines: [
        `kind: ${file.label}`,
        `sweep: ${w.sweep} (${formatInt(w.points)} runs)`,
        `base configuration: ${describeConfig(w.base)}`,
        `runs: ${formatInt(w.runs.length)} of ${formatInt(w.points)} finished${w.duplicates ? ` (${formatInt(w.duplicates)} repeated entries left out)` : ''}`,
        ...(w.note ? [`read: ${oneLine(w.note)}`] : []),
        ...sweepRunLines(w),
        w.note ? 'the page shows it in "Many runs" (loss curves only: no weights to open)' : 'the page shows it in "Many runs" (histories only; a run opens from its record file)',
      ],
    };
  }
  if (file.kind === 'sequence') return { code: 0, lines: sequenceLines(file.label, file.sequence) };
  const r = file.run;
  const epochs = r.history.map((c) => c.epoch);
  // Another tool's run (PyTorch) is shown with its curves as recorded: only our own run files
  // promise that their configuration reproduces their history.
  const check = file.note ? null : integrityCheck(r);
  if (check?.problem) return { code: 2, lines: [oneLine(`refused: ${check.problem}`)] };
  const rec = check?.rec ?? null;
  await startNodeBackend('wasm');
  const { problem, recomputed } = await checkRecordedLoss(r.config, r.trainIndices, rec);
  if (problem) return { code: 2, lines: [oneLine(`refused: ${problem}`)] };
  const snaps = r.snapshots.map((s) => s.epoch);
  return {
    code: 0,
    lines: [
      `kind: ${file.label}`,
      `name: ${oneLine(r.name)}`,
      `configuration: ${describeConfig(r.config)}`,
      `history: ${formatInt(epochs.length)} checkpoints${epochs.length ? `, epochs ${formatInt(epochs[0])} … ${formatInt(epochs.at(-1)!)}` : ''}`,
      `snapshots: ${snaps.length}${snaps.length ? ` (epochs ${snaps.map(formatInt).join(', ')})` : ''}`,
      `resumable: ${r.resume ? `yes, at epoch ${formatInt(r.resume.t)} (weights and Adam moments)` : 'no (continues from its last snapshot with fresh Adam moments)'}`,
      `key frequencies: ${r.keyFreqs && r.keyFreqs.active.length ? `${r.keyFreqs.active.join(', ')}${r.keyFreqs.pinned ? ' (pinned)' : ''}` : 'none yet'}`,
      ...(file.note ? [`read: ${oneLine(file.note)}`] : []),
      `integrity: ${file.note ? 'not checked (another tool\'s run: its curves are shown as recorded)' : rec ? `training loss at epoch ${formatInt(rec.epoch)}: recorded ${rec.trainLoss.toExponential(3)}, recomputed ${recomputed!.toExponential(3)} from its ${rec.exact ? 'resume weights' : 'snapshot'}` : 'no weights with a recorded loss to check'}`,
    ],
  };
}

export async function inspectCommand(args: ParsedArgs): Promise<InspectResult> {
  if (args.flags.size > 0 || args.query.length > 0) throw new UsageError('inspect takes one file and no flags');
  const path = args.positional[0];
  if (!path || args.positional.length > 1) throw new UsageError('inspect needs exactly one file');
  try {
    // A file, or a pipe read as it streams (inspect <(cat run), … | inspect /dev/stdin).
    const bytes = await readInput(path, MAX_RUN_BYTES);
    return await describe(await readImportFile(bytes, { name: basename(path) }));
  } catch (err) {
    return { code: 2, lines: [oneLine(`refused: ${err instanceof Error ? err.message : String(err)}`)] };
  }
}
