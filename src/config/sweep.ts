/**
 * A sweep: a base configuration plus one or two varied keys, e.g. `wd:0,0.1,0.3,1,3;seed:0-4`
 * (the URL's `sweep=` and the CLI's `--vary wd=0,0.1 --vary seed=0-4`). Keys are the URL's short
 * keys; values are listed with commas, and whole numbers may be given as a range `a-b`. Every bad
 * key or value is named, as for every other URL key. The paper's claims rest on such runs: five
 * seeds (Figs. 15–19, 22, 24), a data-fraction sweep (Fig. 21), several λ (App. D).
 */
import { matchPreset, presetGroks } from './presets.ts';
import { CONFIG_KEYS, FIELDS, checkConsistency, type ConfigIssue, type TrainConfig } from './schema.ts';

export interface SweepAxis {
  /** The TrainConfig field varied. */
  field: keyof TrainConfig;
  values: (number | string)[];
}

export interface SweepSpec {
  axes: SweepAxis[];
}

/** At most two varied keys (a phase diagram's two axes), and this many runs in all. */
export const MAX_SWEEP_AXES = 2;
export const MAX_SWEEP_RUNS = 256;

const FIELD_BY_KEY = new Map(CONFIG_KEYS.map((name) => [FIELDS[name].key, name]));
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one axis `key:v1,v2` (or `key=v1,v2`); returns its problem instead when it has one. */
export function parseSweepAxis(text: string): SweepAxis | { error: ConfigIssue } {
  const m = /^\s*([\w-]+)\s*[:=](.*)$/.exec(text);
  if (!m) return { error: { key: 'sweep', message: `"${text}" is not KEY:V1,V2,… (e.g. wd:0,0.1,1)` } };
  const [, key, list] = m;
  const field = FIELD_BY_KEY.get(key);
  if (!field) return { error: { key: 'sweep', message: `unknown key "${key}" in the sweep` } };
  const spec = FIELDS[field];
  if (field === 'epochs') return { error: { key: 'sweep', message: 'the sweep cannot vary epochs (all runs train together)' } };
  const values: (number | string)[] = [];
  for (const raw of list.split(',').map((s) => s.trim())) {
    if (raw === '') return { error: { key: 'sweep', message: `${key}: an empty value in "${list}"` } };
    const range = /^(\d+)-(\d+)$/.exec(raw);
    if (range && spec.kind === 'int') {
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      if (hi < lo || hi - lo >= MAX_SWEEP_RUNS) return { error: { key: 'sweep', message: `${key}: the range ${raw} must count up, at most ${MAX_SWEEP_RUNS} values` } };
      for (let v = lo; v <= hi; v++) values.push(v);
      continue;
    }
    let value: number | string = raw;
    if (spec.kind !== 'enum') {
      if (!DECIMAL.test(raw)) return { error: { key: 'sweep', message: `${key}: ${spec.label} must be a number, got "${raw}"` } };
      value = Number(raw) + 0;
    }
    const problem = checkValue(field, value);
    if (problem) return { error: { key: 'sweep', message: `${key}: ${spec.label} ${problem}` } };
    values.push(value);
  }
  if (new Set(values).size !== values.length) return { error: { key: 'sweep', message: `${key}: a value appears twice in "${list}"` } };
  return { field, values };
}

function checkValue(field: keyof TrainConfig, value: number | string): string | null {
  const spec = FIELDS[field];
  if (spec.kind === 'enum') return spec.values.includes(value as string) ? null : `must be one of ${spec.values.join(', ')}, got "${value}"`;
  const v = value as number;
  if (spec.kind === 'int' && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
  const below = spec.minOpen ? v <= spec.min : v < spec.min;
  const above = spec.maxOpen ? v >= spec.max : v > spec.max;
  if (below || above) return `must be in ${spec.minOpen ? '(' : '['}${spec.min}, ${spec.max}${spec.maxOpen ? ')' : ']'}, got ${v}`;
  return spec.check ? spec.check(v) : null;
}

/** Decodes `key:v1,v2;key2:a-b`: the spec, or the issues naming every bad part. */
export function decodeSweep(text: string): { spec: SweepSpec | null; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const axes: SweepAxis[] = [];
  const parts = text.split(';').filter((s) => s.trim() !== '');
  if (parts.length === 0) issues.push({ key: 'sweep', message: 'an empty sweep' });
  for (const part of parts) {
    const axis = parseSweepAxis(part);
    if ('error' in axis) issues.push(axis.error);
    else if (axes.some((a) => a.field === axis.field)) issues.push({ key: 'sweep', message: `${FIELDS[axis.field].key} is varied twice` });
    else axes.push(axis);
  }
  if (axes.length > MAX_SWEEP_AXES) issues.push({ key: 'sweep', message: `at most ${MAX_SWEEP_AXES} keys can vary, got ${axes.length}` });
  const runs = axes.reduce((n, a) => n * a.values.length, 1);
  if (runs > MAX_SWEEP_RUNS) issues.push({ key: 'sweep', message: `${runs} runs; at most ${MAX_SWEEP_RUNS}` });
  return issues.length > 0 ? { spec: null, issues } : { spec: { axes }, issues };
}

/** The canonical text of a sweep (`decodeSweep(encodeSweep(s))` gives s back). */
export function encodeSweep(spec: SweepSpec): string {
  return spec.axes.map((a) => `${FIELDS[a.field].key}:${compactValues(a.values)}`).join(';');
}

/** Consecutive whole numbers (3 or more) as a range `a-b`. */
function compactValues(values: (number | string)[]): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && typeof values[j] === 'number' && Number.isInteger(values[j]) && (values[j + 1] as number) === (values[j] as number) + 1 && (values[j] as number) >= 0) j++;
    if (j - i >= 2) out.push(`${values[i]}-${values[j]}`);
    else for (let k = i; k <= j; k++) out.push(String(values[k]));
    i = j + 1;
  }
  return out.join(',');
}

/** One run of a sweep: its configuration and its position on each axis. */
export interface SweepPoint {
  index: number;
  config: TrainConfig;
  /** Index into each axis' values. */
  at: number[];
}

/** Every run of the sweep, the first axis outermost; inconsistent combinations are named. */
export function expandSweep(base: TrainConfig, spec: SweepSpec): { points: SweepPoint[]; issues: ConfigIssue[] } {
  const points: SweepPoint[] = [];
  const issues: ConfigIssue[] = [];
  const sizes = spec.axes.map((a) => a.values.length);
  const total = sizes.reduce((n, s) => n * s, 1);
  for (let index = 0; index < total; index++) {
    const at: number[] = [];
    let rest = index;
    for (let k = sizes.length - 1; k >= 0; k--) {
      at[k] = rest % sizes[k];
      rest = Math.floor(rest / sizes[k]);
    }
    const config = { ...base } as unknown as Record<string, unknown>;
    spec.axes.forEach((a, k) => (config[a.field] = a.values[at[k]]));
    const problems = checkConsistency(config as unknown as TrainConfig);
    if (problems.length > 0) issues.push({ key: 'sweep', message: `${describePoint(spec, at)}: ${problems[0].message}` });
    points.push({ index, config: config as unknown as TrainConfig, at });
  }
  return { points, issues };
}

/** `wd=0.1, seed=3`: a run's place in the sweep. */
export function describePoint(spec: SweepSpec, at: number[]): string {
  return spec.axes.map((a, k) => `${FIELDS[a.field].key}=${a.values[at[k]]}`).join(', ');
}

/**
 * The I-th of N disjoint slices of the runs (0-based; `--shard I/N`): every N-th run from I, so
 * shards of a sorted sweep get similar mixes.
 */
export function shardPoints<T>(points: T[], shard: number, shards: number): T[] {
  return points.filter((_, i) => i % shards === shard);
}

/** The paper's sweeps (issue #13): name → base changes and the sweep. */
export const SWEEP_PRESETS = {
  seeds: { label: 'Five seeds of the mainline (Figs. 15–19)', preset: 'mainline', sweep: 'seed:0-4' },
  'data-fraction': { label: 'Data fraction 0.1 … 0.9 (Fig. 21)', preset: 'mainline', sweep: 'frac:0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9' },
  'weight-decay': { label: 'Weight decay λ (App. D)', preset: 'mainline', sweep: 'wd:0,0.1,0.3,1,3' },
  'p53-wd': { label: 'P = 53 with several λ (App. D)', preset: 'p53', sweep: 'wd:0.3,1,3,5,10' },
  'p401-wd': { label: 'P = 401 with several λ (Fig. 25)', preset: 'p401', sweep: 'wd:0.3,1,3' },
  'width-no-wd': { label: 'Widths without weight decay', preset: 'no-wd', sweep: 'mlp:128,256,512,1024' },
} as const;

export type SweepPresetName = keyof typeof SWEEP_PRESETS;

export function isSweepPresetName(name: string): name is SweepPresetName {
  return Object.prototype.hasOwnProperty.call(SWEEP_PRESETS, name);
}

/**
 * What a finished sweep says when none of its runs reached 99% test accuracy (a sweep that
 * grokked nothing must not end silently), and what usually helps; null when one did or none finished.
 * `grokEpochs`: each finished run's first epoch at 99%, or null.
 */
export function noGrokAdvice(grokEpochs: readonly (number | null)[], epochs: number): string | null {
  if (grokEpochs.length === 0 || grokEpochs.some((e) => e !== null)) return null;
  return (
    `No run reached 99% test accuracy in ${epochs.toLocaleString('en-US')} epochs. What usually helps: more epochs (grokking comes long after ` +
    'memorization), a larger weight decay λ (no decay, no grokking), or more training data (a larger frac).'
  );
}

/** A sweep of a configuration no preset vouches for trains this long by default (many runs, not one 40k). */
export const SWEEP_DEFAULT_EPOCHS = 3_000;

/**
 * A sweep's own default length, not the single run's epoch limit: 1.5× a preset's grokking epoch
 * (rounded up to 1,000: the mainline 15,000, the quick preset 3,000), else at most SWEEP_DEFAULT_EPOCHS.
 */
export function defaultSweepEpochs(config: TrainConfig): number {
  const preset = matchPreset(config);
  const groks = preset ? presetGroks(preset) : undefined;
  if (groks) return Math.ceil((1.5 * groks.epoch) / 1000) * 1000;
  return Math.min(config.epochs, SWEEP_DEFAULT_EPOCHS);
}
