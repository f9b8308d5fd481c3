/**
 * The settings of the local learning coefficient's SGLD chains (analysis/llc.ts), free of tfjs so
 * the URL, the store and the views can use them, and the page's schedule of estimates over
 * training (worker/training/llc-scheduler.ts): on or off, the settings, and the share of the time
 * the estimates may take while training runs. URL: `llc=1` (the defaults), `llc=0` (off), or
 * `llc=draws:20,chains:2,share:0.2` (on, with those settings; the rest are the defaults).
 */

export interface LlcSettings {
  /** SGLD step size ε. */
  eps: number;
  /** Localization strength γ (pull towards w*). */
  gamma: number;
  /** Inverse temperature nβ; default batch / ln(batch), devinterp's default_nbeta. */
  nbeta: number;
  chains: number;
  /** Draws (steps) per chain, every one recorded (no burn-in, devinterp's default). */
  draws: number;
  /** Minibatch size (≥ the training set: full batch). */
  batch: number;
  seed: number;
}

export const LLC_DEFAULTS: Readonly<Omit<LlcSettings, 'nbeta'>> = Object.freeze({ eps: 5e-5, gamma: 1000, chains: 4, draws: 100, batch: 128, seed: 0 });

export function defaultNbeta(batch: number): number {
  return batch / Math.log(batch);
}

/** While training runs, the estimates take at most this share of the wall time (all of it while nothing trains). */
export const LLC_SHARE = 0.1;

/** The page's LLC over training: the chains' settings given (the rest default) and the time share. */
export interface LlcSchedule {
  settings: Partial<LlcSettings>;
  share: number;
}

export const LLC_SCHEDULE_KEYS = ['eps', 'gamma', 'nbeta', 'chains', 'draws', 'batch', 'seed', 'share'] as const;
type ScheduleKey = (typeof LLC_SCHEDULE_KEYS)[number];
const WHOLE = new Set<ScheduleKey>(['chains', 'draws', 'batch', 'seed']);
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Why a value of one setting is refused, or null. */
export function checkLlcValue(key: ScheduleKey, v: number): string | null {
  if (!Number.isFinite(v)) return 'must be a number';
  if (WHOLE.has(key)) {
    const min = key === 'seed' ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < min) return `must be a whole number ≥ ${min}`;
    if (key !== 'seed' && v > 100_000) return 'must be at most 100,000';
    return null;
  }
  if (key === 'share') return v > 0 && v <= 1 ? null : 'must be in (0, 1]';
  if (key === 'gamma') return v >= 0 ? null : 'must be ≥ 0';
  return v > 0 ? null : 'must be > 0';
}

/** `1`, `0`, or `key:value,…` (keys LLC_SCHEDULE_KEYS). */
export function parseLlcSchedule(raw: string): { value: LlcSchedule | null } | { error: string } {
  const text = raw.trim();
  if (text === '0') return { value: null };
  if (text === '1' || text === '') return { value: { settings: {}, share: LLC_SHARE } };
  const settings: Partial<LlcSettings> = {};
  let share = LLC_SHARE;
  const seen = new Set<string>();
  for (const item of text.split(',')) {
    const m = /^\s*([a-z]+)\s*:\s*(\S+)\s*$/.exec(item);
    if (!m) return { error: `each item is key:value, got "${item}"` };
    const key = m[1] as ScheduleKey;
    if (!(LLC_SCHEDULE_KEYS as readonly string[]).includes(key)) return { error: `unknown setting "${m[1]}" (one of ${LLC_SCHEDULE_KEYS.join(', ')})` };
    if (seen.has(key)) return { error: `"${key}" is given twice` };
    seen.add(key);
    const v = DECIMAL.test(m[2]) ? Number(m[2]) : NaN;
    const problem = checkLlcValue(key, v);
    if (problem) return { error: `${key} ${problem}, got "${m[2]}"` };
    if (key === 'share') share = v;
    else settings[key] = v;
  }
  return { value: { settings, share } };
}

export function formatLlcSchedule(s: LlcSchedule): string {
  const items = LLC_SCHEDULE_KEYS.flatMap((k) => {
    const v = k === 'share' ? (s.share === LLC_SHARE ? undefined : s.share) : s.settings[k];
    return v === undefined ? [] : [`${k}:${v}`];
  });
  return items.length ? items.join(',') : '1';
}

/** The settings an estimate will use for a training set of `n` pairs. */
export function resolveLlcSettings(given: Partial<LlcSettings>, n: number): LlcSettings {
  const base = { ...LLC_DEFAULTS, ...given };
  return { ...base, nbeta: given.nbeta ?? defaultNbeta(Math.min(base.batch, n)) };
}

/** One estimate of the curve over training. */
export interface LlcPoint {
  epoch: number;
  llc: number;
  error: number;
  settled: boolean;
  seconds: number;
}

/** The LLC over training as a run file carries it (src/files/run-file.ts): the settings (nβ resolved) and the points. */
export interface LlcSeries {
  settings: LlcSettings;
  points: LlcPoint[];
}

export const sameLlcSettings = (a: LlcSettings, b: LlcSettings) => (Object.keys(a) as (keyof LlcSettings)[]).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;

/** A series read from a file (JSON: NaN came as null), or why it is refused. */
export function checkLlcSeries(raw: unknown): LlcSeries | string {
  const r = raw as { settings?: Record<string, unknown>; points?: unknown } | null;
  if (!r || typeof r !== 'object' || !r.settings || typeof r.settings !== 'object' || !Array.isArray(r.points)) return 'it needs "settings" and "points"';
  const settings = {} as LlcSettings;
  for (const k of ['eps', 'gamma', 'nbeta', 'chains', 'draws', 'batch', 'seed'] as const) {
    const v = r.settings[k];
    const problem = typeof v === 'number' ? checkLlcValue(k, v) : 'is missing';
    if (problem) return `its ${k} ${problem}`;
    settings[k] = v as number;
  }
  if (r.points.length > 100_000) return 'it has more than 100,000 points';
  const num = (v: unknown) => (v === null ? NaN : typeof v === 'number' ? v : undefined);
  const points: LlcPoint[] = [];
  for (const p of r.points as Record<string, unknown>[]) {
    const [epoch, llc, error, seconds] = [p?.epoch, num(p?.llc), num(p?.error), num(p?.seconds)];
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0 || (points.length > 0 && epoch <= points[points.length - 1].epoch)) return `its epochs must be whole numbers ≥ 0, ascending (at point ${points.length})`;
    if (llc === undefined || error === undefined || seconds === undefined || typeof p.settled !== 'boolean') return `its point at epoch ${epoch} needs numbers llc, error, seconds and a boolean settled`;
    points.push({ epoch, llc, error, settled: p.settled, seconds });
  }
  return { settings, points };
}
