/**
 * Opens a packed sweep (`npm run cli -- sweep … && npm run cli -- merge DIR --out FILE`, format
 * grokscope-sweep/1) in the page's sweep views: small multiples and the phase diagram of every
 * finished run. A packed sweep holds each run's history, not its weights, so its runs are shown,
 * not opened (a run's record file, from `sweep --record`, opens with Import).
 */
import { presetConfig } from '../../config/presets.ts';
import { CONFIG_KEYS, FIELDS, checkConsistency, type TrainConfig } from '../../config/schema.ts';
import { decodeSweep, encodeSweep, expandSweep, parseSweepAxis } from '../../config/sweep.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import { useAppStore } from '../../store/store.ts';
import { summarize, useSweepStore } from '../../store/sweep.ts';

export const SWEEP_FORMAT = 'grokscope-sweep/1';

function fail(message: string): never {
  throw new Error(message);
}

/** Reads and checks a packed sweep's text; shows it. Throws a message for the person when it is not one. */
export function openPackedSweep(text: string, fileName = 'the file'): void {
  if (useSweepStore.getState().status === 'running') fail('a sweep is training in the page; stop it first');
  let packed: { format?: unknown; sweep?: unknown; base?: unknown; runs?: unknown };
  try {
    packed = JSON.parse(text) as typeof packed;
  } catch {
    fail('it is not JSON');
  }
  if (packed?.format !== SWEEP_FORMAT) fail(`it is not a packed sweep (format ${SWEEP_FORMAT})`);
  if (typeof packed.sweep !== 'string') fail('it names no sweep');
  const { spec, issues } = decodeSweep(packed.sweep);
  if (!spec) fail(issues.map((i) => i.message).join('; '));
  // Fields a file leaves out take the mainline's values (the CLI writes them all).
  const base = packed.base && typeof packed.base === 'object' ? ({ ...presetConfig('mainline'), ...(packed.base as Partial<TrainConfig>) } as TrainConfig) : null;
  if (!base) fail('it has no base configuration');
  // Every field checked as a link's would be (one value of a sweep axis), then the combination.
  for (const k of CONFIG_KEYS) {
    if (k === 'epochs') continue;
    const checked = parseSweepAxis(`${FIELDS[k].key}:${String(base[k])}`);
    if ('error' in checked) fail(`its base configuration: ${checked.error.message}`);
  }
  const problems = checkConsistency(base);
  if (problems.length > 0) fail(`its base configuration: ${problems[0].message}`);
  const { points } = expandSweep(base!, spec);
  if (!Array.isArray(packed.runs)) fail('it lists no runs');
  const done: Parameters<ReturnType<typeof useSweepStore.getState>['restore']>[0] = [];
  let epochs = 0;
  let every = 0;
  for (const r of packed.runs as { index?: unknown; result?: { history?: unknown } }[]) {
    const index = r?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= points.length) fail(`a run's index ${String(index)} is not one of the sweep's ${points.length}`);
    const history = r.result?.history;
    if (!Array.isArray(history) || history.length === 0) fail(`run ${index} has no history`);
    const rows = (history as Checkpoint[]).map((h) => {
      const row = { epoch: Number(h.epoch), trainLoss: Number(h.trainLoss), testLoss: Number(h.testLoss), trainAcc: Number(h.trainAcc), testAcc: Number(h.testAcc) };
      if (!Number.isFinite(row.epoch)) fail(`run ${index} has a checkpoint without an epoch`);
      return row;
    });
    epochs = Math.max(epochs, rows.at(-1)!.epoch);
    if (rows.length > 1) every = rows[1].epoch - rows[0].epoch;
    done.push({ index, rows, summary: summarize(history as Checkpoint[]) });
  }
  useSweepStore.getState().setText(encodeSweep(spec));
  useSweepStore.getState().begin(spec, base!, points, epochs, every);
  useSweepStore.getState().restore(done, `${done.length} of ${points.length} runs from ${fileName} (histories only: a run opens from its record file, sweep --record).`);
  useAppStore.getState().notify('info', `Opened the sweep ${encodeSweep(spec)} from ${fileName}: ${done.length} of ${points.length} runs, in “Many runs”.`);
}

/** Whether a file's first bytes (after gunzip) look like a packed sweep. */
export function looksLikePackedSweep(text: string): boolean {
  return text.includes(`"format":"${SWEEP_FORMAT}"`);
}

/** Imports a packed sweep file (gzip or not); a broken one changes nothing and says why. */
export async function importSweepFile(file: Blob & { name?: string }): Promise<void> {
  try {
    let bytes = new Uint8Array(await file.arrayBuffer());
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    }
    openPackedSweep(new TextDecoder().decode(bytes), file.name ?? 'the file');
  } catch (err) {
    useAppStore.getState().notify('error', `This file cannot be opened as a sweep${file.name ? ` (${file.name})` : ''}: ${err instanceof Error ? err.message : String(err)}. Nothing was changed.`);
  }
}
