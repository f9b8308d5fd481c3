/**
 * Opening runs: saved ones (owned by one tab: another tab opens a copy), imported files of every
 * kind the page reads (src/files/import-file.ts: gzip streamed with a limit, the kind decided from
 * the whole header, every dimension checked before allocating, and a run's configuration checked
 * against its own recorded loss by the worker), the recorded reference runs, and exporting. The
 * run in hand is saved before anything replaces it; a refused file changes nothing.
 */
import { checkConsistency } from '../../config/schema.ts';
import { splitPairs } from '../../task/pairs.ts';
import { readImportFile } from '../../files/import-file.ts';
import { recordedLoss } from '../../run/integrity.ts';
import { encodeRun, type RunData } from '../../files/run-file.ts';
import type { SavedRunMeta } from '../../store/saved-runs.ts';
import { useAppStore } from '../../store/store.ts';
import { loadRun, requestState, verifyRun } from '../client.ts';
import { adoptConfig, db, dismissResume, expectLoad, refreshSavedRuns, runData, saveNow, toLoadable } from '../storage/persistence.ts';
import { saveBlob } from './download.ts';
import { claimRun, RELOAD_GRACE_MS } from '../storage/run-owner.ts';

const store = () => useAppStore.getState();

/**
 * Saves the run in hand, then opens `run` in the worker under `key` (null: a new saved run);
 * `recording` names the recorded run on show (?run=), which keeps its place in the address.
 */
async function replaceWith(run: RunData, key: string | null, name = run.name, recording: { key: string; name: string } | null = null): Promise<void> {
  await saveNow();
  adoptConfig({ ...run, name });
  if (recording) useAppStore.setState({ recordingRequest: recording });
  expectLoad({ key, name, snapshots: key ? run.snapshots.map((x) => x.epoch) : [], fileEpoch: key ? (run.history.at(-1)?.epoch ?? -1) : -1 });
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
    await replaceWith(run, owned ? key : null, owned ? run.name : `${run.name} (copy)`.slice(0, 200));
  } catch (err) {
    store().notify('error', `This saved run cannot be opened: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function acceptResume(meta: SavedRunMeta, opts: { copy?: boolean } = {}): Promise<void> {
  dismissResume();
  await openSavedRun(meta.key, opts);
}

/** A checkpoint's weights as a new run starting from them. */
async function checkpointRun(ckpt: Extract<Awaited<ReturnType<typeof readImportFile>>, { kind: 'checkpoint' }>['checkpoint'], fileName: string | undefined): Promise<RunData> {
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

/** Reads and checks a run file's bytes, integrity included; throws a message for the person. */
export async function readRunBytes(raw: Uint8Array): Promise<RunData> {
  const file = await readImportFile(raw);
  if (file.kind !== 'run') throw new Error(`this is ${file.label}, not a run file`);
  const recorded = recordedLoss(file.run);
  const problem = recorded ? await verifyRun({ config: file.run.config, trainIndices: file.run.trainIndices, recorded }) : null;
  if (problem) throw new Error(problem);
  return file.run;
}

/** Imports any file the page reads: a run file opens the run, model weights start a new run. */
export async function importFile(file: Blob & { name?: string }): Promise<void> {
  const label = file.name ? ` (${file.name.slice(0, 80)})` : '';
  let run: RunData;
  let weights = false;
  try {
    const read = await readImportFile(new Uint8Array(await file.arrayBuffer()), { name: file.name });
    if (read.kind === 'run' && read.note) {
      // Another tool's run (a PyTorch file): its curves as recorded, nothing of ours to verify.
      await openImportedRun(read.run, read.note);
      return;
    }
    if (read.kind === 'run') {
      run = read.run;
      const recorded = recordedLoss(run);
      const problem = recorded ? await verifyRun({ config: run.config, trainIndices: run.trainIndices, recorded }) : null;
      if (problem) throw new Error(problem);
    } else {
      run = await checkpointRun(read.checkpoint, file.name);
      weights = true;
    }
  } catch (err) {
    store().notify('error', `This file cannot be opened as a run or as model weights${label}: ${err instanceof Error ? err.message : String(err)}. Your runs are unchanged.`);
    return;
  }
  await replaceWith(run, null);
  if (weights) store().notify('info', `Loaded weights from ${file.name ?? 'the file'} at epoch ${run.snapshots[0].epoch}; training continues from them with fresh Adam moments.`);
  else store().notify('info', `Opened “${run.name}” (${run.history.length} checkpoints, ${run.snapshots.length} snapshots${run.resume ? ', resumable' : ''}).`);
}

/** Opens a run built from another tool's files (PyTorch): its history as recorded; training may continue. */
export async function openImportedRun(run: RunData, message: string): Promise<void> {
  await replaceWith(run, null);
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
    saveBlob(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), `${run.name.replace(/[^\w.=-]+/g, '_').slice(0, 80)}.grokrun.gz`);
  } catch (err) {
    store().notify('error', `The run could not be exported: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The recorded reference runs shipped with the site, by ?run= name. */
export const REFERENCE_RUNS: Record<string, { file: string; label: string }> = {
  reference: { file: 'runs/reference.grokrun.gz', label: 'mainline, seed 0, 16k epochs' },
  'no-wd': { file: 'runs/no-wd.grokrun.gz', label: 'no weight decay (λ = 0), the control' },
};

/** Opens a recorded run from the site (lazily fetched, not part of the first load). */
export async function openReferenceRun(name: string): Promise<void> {
  // Own keys only: ?run=__proto__ or ?run=toString name no recorded run.
  const ref = Object.hasOwn(REFERENCE_RUNS, name) ? REFERENCE_RUNS[name] : undefined;
  if (!ref) {
    store().notify('warning', `There is no recorded run "${name.slice(0, 40)}"; known: ${Object.keys(REFERENCE_RUNS).join(', ')}.`);
    return;
  }
  try {
    const res = await fetch(new URL(ref.file, document.baseURI));
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const run = await readRunBytes(new Uint8Array(await res.arrayBuffer()));
    await replaceWith(run, null, run.name, { key: name, name: run.name });
  } catch (err) {
    store().notify('error', `The recorded run could not be opened: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export { refreshSavedRuns };
