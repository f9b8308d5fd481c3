/**
 * `split FILE --out DIR`: lays a run file out for a static host (src/files/recording.ts): DIR gets
 * recording.json (the manifest), head.grokrun.gz (config, history, the last snapshot: the curves
 * draw from it) and snapshots.bin (the other snapshots back to back, read with HTTP Range requests
 * or streamed whole). The snapshots keep the file's own dtype (float16 for the shipped recordings).
 * --story-step X keeps only the snapshots the views need (storySnapshotEpochs: kept when a view's
 * measure moved by X since the last kept one).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readImportFile } from '../files/import-file.ts';
import { MAX_RUN_BYTES } from '../files/run-file.ts';
import { splitRecording, storySnapshotEpochs } from '../files/recording.ts';
import { UsageError, type ParsedArgs } from './node/args.ts';
import { readInput } from './node/read-input.ts';

export async function splitCommand(args: ParsedArgs): Promise<string[]> {
  const [path] = args.positional;
  const out = args.flags.get('out');
  if (!path || !out) throw new UsageError('split needs a run file and --out DIR');
  for (const name of args.flags.keys()) if (name !== 'out' && name !== 'story-step') throw new UsageError(`unknown flag --${name}`);
  const rawStep = args.flags.get('story-step');
  const step = rawStep === undefined ? null : Number(rawStep);
  if (step !== null && !(step > 0 && step <= 1)) throw new UsageError(`--story-step must be a number in (0, 1], got "${rawStep}"`);
  const file = await readImportFile(await readInput(path, MAX_RUN_BYTES), { name: path });
  if (file.kind !== 'run') throw new UsageError(`${path} is not a run file`);
  const all = file.run.snapshots.length;
  const keep = step === null ? null : new Set(storySnapshotEpochs(file.run, step));
  const run = keep ? { ...file.run, snapshots: file.run.snapshots.filter((s) => keep.has(s.epoch)) } : file.run;
  const { head, pieces, manifest } = splitRecording(run);
  mkdirSync(out, { recursive: true });
  const headGz = gzipSync(head, { level: 9 });
  writeFileSync(join(out, manifest.head), headGz);
  writeFileSync(join(out, manifest.pieces), pieces);
  writeFileSync(join(out, 'recording.json'), `${JSON.stringify(manifest)}\n`);
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  return [
    ...(keep ? [`--story-step ${step}: ${run.snapshots.length} of the ${all} snapshots kept (epochs ${run.snapshots.map((s) => s.epoch).join(', ')})`] : []),
    `${join(out, 'recording.json')}: ${manifest.snapshots.length} snapshot pieces of ${kb(manifest.snapshots[0]?.length ?? 0)} (${manifest.dtype})`,
    `${join(out, manifest.head)}: ${kb(headGz.length)} (config, ${run.history.length} checkpoints, the snapshot at epoch ${run.snapshots.at(-1)?.epoch ?? '—'})`,
    `${join(out, manifest.pieces)}: ${kb(pieces.length)}`,
  ];
}
