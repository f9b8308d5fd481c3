/**
 * Opening runs: saved ones (owned by one tab: another tab opens a copy), imported files of every
 * kind the page reads (read in the import worker by src/files/read-files.ts: gzip streamed with a
 * limit, the kind decided from the whole header, every dimension checked before allocating; then a
 * run's configuration checked against its own recorded loss by the training worker), the recorded
 * reference runs, and exporting. The run in hand is saved before anything replaces it; a refused
 * file changes nothing; an imported run is saved as a new run as soon as it opens.
 */
import { checkConsistency } from '../../config/schema.ts';
import { splitPairs } from '../../task/pairs.ts';
import type { CheckpointData } from '../../files/safetensors/checkpoint.ts';
import { integrityCheck } from '../../run/integrity.ts';
import { runFileName } from '../../run/format.ts';
import { encodeRun, type RunData } from '../../files/run-file.ts';
import type { SavedRunMeta } from '../../store/saved-runs.ts';
import { useAppStore } from '../../store/store.ts';
import { loadRun, requestState, verifyRun } from '../client.ts';
import { adoptConfig, db, dismissResume, expectLoad, refreshSavedRuns, runData, saveNow, toLoadable } from '../storage/persistence.ts';
import type { PackedSweep } from '../../files/packed-sweep.ts';
import { saveBlob } from './download.ts';
import { readInWorker } from './import-worker.ts';
import { claimRun, RELOAD_GRACE_MS } from '../storage/run-owner.ts';
import { continueTraining } from '../storage/was-training.ts';
import { fetchRecordingHead, loadRecordingPieces } from './recording-pieces.ts';
import { showSequenceFile } from '../sequence.ts';

const store = () => useAppStore.getState();

/**
 * Saves the run in hand, then opens `run` in the worker under `key` (null: a new saved run);
 * `recording` names the recorded run on show (?run=), which keeps its place in the address.
 */
async function replaceWith(run: RunData, key: string | null, name = run.name, recording: { key: string; name: string } | null = null, opts: { keep?: boolean } = {}): Promise<void> {
  // A recording saved the run in hand before its preview took the store's curves.
  if (!recording) await saveNow();
  adoptConfig({ ...run, name });
  if (recording) useAppStore.setState({ recordingRequest: recording });
  // keep: the run is the person's (an import, a copy, a branch) and is saved as soon as it opens.
  expectLoad({ key, name, snapshots: key ? run.snapshots.map((x) => x.epoch) : [], fileEpoch: key ? (run.history.at(-1)?.epoch ?? -1) : -1, keep: opts.keep ?? false });
  loadRun(toLoadable(run), run.history);
}

/** Opens a saved run where it was saved; if another tab has it open, opens a copy instead. */
export async function openSavedRun(key: string, opts: { copy?: boolean } = {}): Promise<void> {
  const rs = await db();
  if (!rs) return;
  try {
    const run = await rs.load(key);
    // Waits out a lock this tab's previous page may still hold after a reload.
    const owned = !opts.copy && (await claimRun(key, RELOAD_GRACE_MS));
    if (!owned && !opts.copy) store().notify('info', `“${run.name}” is training in another tab, so this tab opened a copy of its last save; the copy is saved as a new run.`);
    await replaceWith(run, owned ? key : null, owned ? run.name : `${run.name} (copy)`.slice(0, 200), null, { keep: !owned });
  } catch (err) {
    store().notify('error', `This saved run cannot be opened: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Resume: the run opens where it was saved, and trains on if it was training (a copy of another tab's run opens paused). */
export async function acceptResume(meta: SavedRunMeta, opts: { copy?: boolean } = {}): Promise<void> {
  dismissResume();
  if (!opts.copy) continueTraining(meta.key);
  await openSavedRun(meta.key, opts);
}

/** A checkpoint's weights as a new run starting from them. */
async function checkpointRun(ckpt: CheckpointData, fileName: string | undefined): Promise<RunData> {
  const problems = checkConsistency(ckpt.config);
  if (problems.length > 0) throw new Error(problems[0].message);
  const flat = new Float32Array(Object.values(ckpt.weights).reduce((n, w) => n + w.length, 0));
  let o = 0;
  for (const w of Object.values(ckpt.weights)) {
    flat.set(w, o);
    o += w.length;
  }
  return {
    name: `${fileName ?? 'imported weights'} (epoch ${ckpt.epoch})`,
    config: ckpt.config,
    trainIndices: ckpt.trainIndices ?? splitPairs(ckpt.config.p, ckpt.config.frac, ckpt.config.seed, ckpt.config.split).train,
    keyFreqs: null,
    history: [],
    snapshots: [{ epoch: ckpt.epoch, weights: flat }],
    resume: null,
    backend: null,
    createdAt: new Date().toISOString(),
  };
}

/** A run file's integrity (integrity.ts), its recorded loss recomputed by the training worker: null, or what disagrees. */
async function verified(run: RunData): Promise<string | null> {
  const { rec, problem } = integrityCheck(run);
  if (problem !== null) return problem;
  return verifyRun({ config: run.config, trainIndices: run.trainIndices, recorded: rec });
}

const names = (ns: string[]) => (ns.length > 0 ? ` (${ns.join(', ').slice(0, 120)}${ns.join(', ').length > 120 ? '…' : ''})` : '');

/**
 * Reads and checks a run file's bytes in the import worker, integrity included; throws a message for
 * the person. `preview`: shown once read, while the training worker checks it (withdrawn if refused).
 */
export async function readRunBytes(raw: Uint8Array, name = 'the run file', preview?: (run: RunData) => void): Promise<RunData> {
  const answer = await readInWorker([{ name, blob: new Blob([raw as BlobPart]) }]);
  if (!answer.ok) throw new Error(answer.message);
  if (answer.file.kind !== 'run') throw new Error(`this is ${answer.file.label}, not a run file`);
  const run = answer.file.run;
  preview?.(run);
  const problem = await verified(run);
  if (problem) throw new Error(problem);
  return run;
}

/**
 * Imports what a person chose or dropped, read completely in the import worker first (nothing of a
 * file is parsed on the page's main thread): a run file opens the run, model weights start a new
 * run, PyTorch files of one run open as a run, a packed sweep opens in "Many runs". Several files
 * that are not the PyTorch files of one run: the first opens, and the notice names the others.
 * `showSweep` shows a packed sweep (src/client/sweep/sweep-file.ts: the sweep room stands on this one).
 */
export async function importFiles(files: (Blob & { name: string })[], showSweep: (sweep: PackedSweep, fileName: string) => void): Promise<void> {
  if (files.length === 0) return;
  const answer = await readInWorker(files.map((f) => ({ name: f.name, blob: f })));
  if (!answer.ok) {
    const what = answer.torch ? `This PyTorch file cannot be opened${names(answer.names)}` : `This file cannot be opened as a run, model weights or a sweep${names(answer.names.slice(0, 1))}`;
    const others = !answer.torch && answer.names.length > 1 ? ` ${answer.names.length - 1} other file${answer.names.length > 2 ? 's were' : ' was'} not opened either (the page opens one file at a time, or the PyTorch files of one run).` : '';
    store().notify('error', `${what}: ${answer.message}. Your runs are unchanged.${others}`);
    return;
  }
  const { file, ignored } = answer;
  const notOpened = ignored.length > 0 ? ` The page opens one file at a time (several only when they are the PyTorch files of one run): ${ignored.length} other file${ignored.length > 1 ? 's' : ''}${names(ignored)} ${ignored.length > 1 ? 'were' : 'was'} not opened.` : '';
  const label = names(answer.opened);
  let run: RunData;
  try {
    if (file.kind === 'sweep') {
      try {
        showSweep(file.sweep, answer.opened[0]);
      } catch (err) {
        store().notify('error', `This file cannot be opened as a sweep${label}: ${err instanceof Error ? err.message : String(err)}. Nothing was changed.${notOpened}`);
        return;
      }
      if (notOpened) store().notify('info', notOpened.trim());
      return;
    }
    if (file.kind === 'sequence') {
      // The appendix tasks have their own room (ui/sequence): the run on show stays.
      const q = file.sequence;
      showSequenceFile(q, answer.opened[0]);
      store().notify('info', `This file${label} is the authors' saved run of ${q.task} (App. D.3): ${q.description.slice(0, 200)}. It is shown in “Grokking beyond modular addition”${q.weights ? ', with its model measured on 1,000 fresh problems there' : ''}; your runs are unchanged.${notOpened}`);
      return;
    }
    if (file.kind === 'run' && file.note) {
      // Another tool's run (a PyTorch file): its curves as recorded, nothing of ours to verify.
      await openImportedRun(file.run, `${file.note}${notOpened}`);
      return;
    }
    if (file.kind === 'run') {
      run = file.run;
      const problem = await verified(run);
      if (problem) throw new Error(problem);
    } else run = await checkpointRun(file.checkpoint, answer.opened[0]);
  } catch (err) {
    store().notify('error', `This file cannot be opened as a run or as model weights${label}: ${err instanceof Error ? err.message : String(err)}. Your runs are unchanged.${notOpened}`);
    return;
  }
  await replaceWith(run, null, run.name, null, { keep: true });
  if (file.kind === 'checkpoint') store().notify('info', `Loaded weights from ${answer.opened[0].slice(0, 80)} at epoch ${run.snapshots[0].epoch}; training continues from them with fresh Adam moments.${notOpened}`);
  else store().notify('info', `Opened “${run.name.slice(0, 80)}” (${run.history.length} checkpoints, ${run.snapshots.length} snapshots${run.resume ? ', resumable' : ''}).${notOpened}`);
}

/** Opens a run built from another tool's files (PyTorch), a branch or a sweep's run: kept as a new saved run; training may continue. */
export async function openImportedRun(run: RunData, message: string): Promise<void> {
  await replaceWith(run, null, run.name, null, { keep: true });
  store().notify('info', message);
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Downloads the current run as one file (all snapshots in float32, resumable), gzip-compressed. */
export async function exportCurrentRun(): Promise<void> {
  try {
    const state = await requestState(-1);
    const run = runData(state, state.snapshots);
    const bytes = await gzip(encodeRun(run));
    saveBlob(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), runFileName(run.name, run.config, run.history.at(-1)?.epoch ?? 0));
  } catch (err) {
    store().notify('error', `The run could not be exported: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The recorded reference runs shipped with the site, by ?run= name: a whole run file, or a
 * recording laid out in pieces (`recording`, its manifest: src/files/recording.ts).
 */
export const REFERENCE_RUNS: Record<string, { file: string; label: string; recording?: string }> = {
  reference: { file: 'runs/reference.grokrun.gz', recording: 'runs/reference/recording.json', label: 'mainline, seed 0, 16k epochs' },
  'no-wd': { file: 'runs/no-wd.grokrun.gz', recording: 'runs/no-wd/recording.json', label: 'no weight decay (λ = 0), the control' },
};

/** Opens a recorded run from the site (lazily fetched, not part of the first load). */
export async function openReferenceRun(name: string): Promise<void> {
  // Own keys only: ?run=__proto__ or ?run=toString name no recorded run.
  const ref = Object.hasOwn(REFERENCE_RUNS, name) ? REFERENCE_RUNS[name] : undefined;
  if (!ref) {
    store().notify('warning', `There is no recorded run "${name.slice(0, 40)}"; known: ${Object.keys(REFERENCE_RUNS).join(', ')}.`);
    return;
  }
  // The curves go on show as soon as the file is read (the training worker may still be starting),
  // and stay while the worker checks the run against its recorded loss and loads it.
  const preview = (run: RunData) => store().previewRecording({ key: name, name: run.name, config: run.config }, run.history);
  try {
    await saveNow();
    // The curves first, the snapshots after them as the views need them (recording-pieces.ts);
    // where the pieces are not (npm run dev) or their head is refused, the whole file.
    const manifestUrl = ref.recording ? new URL(ref.recording, document.baseURI) : null;
    const pieces = manifestUrl ? await fetchRecordingHead(manifestUrl).then(async (x) => ({ ...x, run: await readRunBytes(x.head, x.manifest.head, preview) })).catch(() => (store().withdrawPreview(), null)) : null;
    if (manifestUrl && pieces) {
      await replaceWith(pieces.run, null, pieces.run.name, { key: name, name: pieces.run.name });
      void loadRecordingPieces(name, manifestUrl, pieces.manifest, pieces.run);
      return;
    }
    const res = await fetch(new URL(ref.file, document.baseURI));
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const run = await readRunBytes(new Uint8Array(await res.arrayBuffer()), ref.file, preview);
    await replaceWith(run, null, run.name, { key: name, name: run.name });
  } catch (err) {
    store().withdrawPreview();
    store().notify('error', `The recorded run could not be opened: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export { refreshSavedRuns };
