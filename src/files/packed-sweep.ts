/**
 * A packed sweep (`npm run cli -- sweep … && npm run cli -- merge DIR --out FILE`, format
 * grokscope-sweep/1): the sweep's spec and base configuration and every finished run's history.
 * Read here, off the page's main thread, and shown by src/client/sweep/sweep-file.ts. JSON is told
 * by parsing, never by its spacing: Python's json.dumps or json.tool re-indent it, and may move
 * "format" anywhere in the object.
 */
import { presetConfig } from '../config/presets.ts';
import { CONFIG_KEYS, FIELDS, checkConsistency, type TrainConfig } from '../config/schema.ts';
import { decodeSweep, encodeSweep, expandSweep, parseSweepAxis } from '../config/sweep.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import { cutText, formatInt } from '../run/format.ts';
import { MAX_HISTORY_ROWS } from './run-file.ts';
import { SafetensorsError } from './safetensors/safetensors.ts';

export const SWEEP_FORMAT = 'grokscope-sweep/1';

/** The columns of a run's history the sweep views draw and summarize. */
export type SweepHistoryRow = Pick<Checkpoint, 'epoch' | 'trainLoss' | 'testLoss' | 'trainAcc' | 'testAcc' | 'excludedLoss' | 'giniWL'>;

export interface PackedSweep {
  /** The sweep as the URL writes it (`wd:0,1;seed:0-4`). */
  sweep: string;
  base: TrainConfig;
  /** How many runs the sweep has in all. */
  points: number;
  /** Each finished run once, by its index in the sweep. */
  runs: { index: number; history: SweepHistoryRow[] }[];
  /** Entries of a run already listed (a file merged twice), left out. */
  duplicates: number;
  /** For another tool's sweep (the authors' sweep files), what was read, in words. */
  note?: string;
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

/** Whether bytes are text that starts a JSON object: whitespace, then '{', and no NUL in the first 8 bytes (a safetensors length has some). */
export function looksLikeJson(bytes: Uint8Array): boolean {
  for (let i = 0; i < Math.min(8, bytes.length); i++) if (bytes[i] === 0) return false;
  for (const b of bytes.subarray(0, 4096)) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue; // spaces, a UTF-8 BOM
    return b === 0x7b;
  }
  return false;
}

/** Reads and checks a packed sweep's text; throws a message for the person when it is not one. */
export function readPackedSweep(text: string): PackedSweep {
  let packed: { format?: unknown; sweep?: unknown; base?: unknown; runs?: unknown };
  try {
    packed = JSON.parse(text.replace(/^\uFEFF/, '')) as typeof packed;
  } catch (err) {
    fail(`it is not JSON (${cutText(err instanceof Error ? err.message : String(err), 80)})`);
  }
  if (typeof packed !== 'object' || packed === null || packed.format !== SWEEP_FORMAT) {
    fail(`it is JSON but not a packed sweep (format ${SWEEP_FORMAT}${typeof packed?.format === 'string' ? `; its format is "${cutText(packed.format, 40)}"` : ''})`);
  }
  if (typeof packed.sweep !== 'string') fail('it names no sweep');
  const { spec, issues } = decodeSweep(packed.sweep);
  if (!spec) fail(issues.map((i) => i.message).join('; '));
  // Fields a file leaves out take the mainline's values (the CLI writes them all).
  const base = packed.base && typeof packed.base === 'object' ? ({ ...presetConfig('mainline'), ...(packed.base as Partial<TrainConfig>) } as TrainConfig) : null;
  if (!base) fail('it has no base configuration');
  // Every field checked as a link's would be (one value of a sweep axis), then the combination.
  for (const k of CONFIG_KEYS) {
    if (k === 'epochs') continue;
    const checked = parseSweepAxis(`${FIELDS[k].key}:${cutText(String(base[k]), 40)}`);
    if ('error' in checked) fail(`its base configuration: ${checked.error.message}`);
  }
  const problems = checkConsistency(base);
  if (problems.length > 0) fail(`its base configuration: ${problems[0].message}`);
  const { points } = expandSweep(base, spec);
  if (!Array.isArray(packed.runs)) fail('it lists no runs');
  const runs: PackedSweep['runs'] = [];
  const seen = new Set<number>();
  let duplicates = 0;
  for (const r of packed.runs as { index?: unknown; result?: { history?: unknown } }[]) {
    const index = r?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= points.length) fail(`a run's index ${cutText(String(index), 20)} is not one of the sweep's ${points.length}`);
    if (seen.has(index)) {
      duplicates += 1;
      continue;
    }
    seen.add(index);
    const history = r.result?.history;
    if (!Array.isArray(history) || history.length === 0) fail(`run ${index} has no history`);
    if (history.length > MAX_HISTORY_ROWS) fail(`run ${index} has ${formatInt(history.length)} checkpoints, more than the ${formatInt(MAX_HISTORY_ROWS)} a run may hold`);
    let last = -Infinity;
    const rows = (history as Partial<Record<keyof SweepHistoryRow, unknown>>[]).map((h, i) => {
      const row: SweepHistoryRow = {
        epoch: Number(h?.epoch), trainLoss: Number(h?.trainLoss), testLoss: Number(h?.testLoss), trainAcc: Number(h?.trainAcc), testAcc: Number(h?.testAcc),
        excludedLoss: h?.excludedLoss === undefined ? NaN : Number(h.excludedLoss), giniWL: h?.giniWL === undefined ? NaN : Number(h.giniWL),
      };
      if (!Number.isInteger(row.epoch) || row.epoch < 0) fail(`run ${index} has a checkpoint without a valid epoch (row ${i})`);
      if (row.epoch <= last) fail(`run ${index}'s checkpoints are out of order at row ${i} (epoch ${row.epoch})`);
      last = row.epoch;
      return row;
    });
    runs.push({ index, history: rows });
  }
  return { sweep: encodeSweep(spec), base, points: points.length, runs, duplicates };
}
