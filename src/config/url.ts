/**
 * The configuration in the query string: short keys (FIELDS[k].key), only values that differ
 * from the base (the preset named by ?preset=, else the mainline defaults). Decoding never
 * throws: every bad parameter becomes a ConfigIssue naming it, and that field keeps its base
 * value, so a bad link never silently trains something else.
 */
import { formatAblations, parseAblations, type Ablation } from './ablations.ts';
import { BACKENDS, type BackendName } from './backends.ts';
import { checkKeyFreqs } from './keyfreqs.ts';
import { isPresetName, presetConfig, type PresetName } from './presets.ts';
import { decodeSweep, type SweepSpec } from './sweep.ts';
import { parseLlcSchedule, type LlcSchedule } from './llc.ts';
import { SEQUENCE_PRESET_NAMES, isSequencePreset, type SequencePresetName } from './sequence-presets.ts';
import {
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  FIELDS,
  checkConsistency,
  checkField,
  type ConfigIssue,
  type TrainConfig,
} from './schema.ts';

/** Everything the URL can carry. */
export interface UrlState {
  config: TrainConfig;
  preset: PresetName | null;
  /** ?backend= override of the default order webgpu → webgl → wasm → cpu. */
  backend: BackendName | null;
  /** ?k=14,35,41: key frequencies pinned by hand (null: the default rule). */
  keyFreqs: number[] | null;
  /** ?ablate=head:0,we:14: an intervention on the viewed checkpoint (syntax: ablations.ts). */
  ablations?: Ablation[];
  /** ?pair=5,9: the input (a, b) the per-input view shows, as a·P + b. */
  pair?: number | null;
}

export interface DecodedUrl extends UrlState {
  /** ?run=reference: a recorded run to open instead of training (handled by the page). */
  run: string | null;
  /** ?at=8000: the epoch a recorded run opens at (with ?run=). */
  at: number | null;
  /** ?sweep=wd:0,0.1;seed:0-4: runs varied from this configuration (config/sweep.ts). */
  sweep: SweepSpec | null;
  /** ?llc=1 or ?llc=draws:20,chains:2: the LLC over training, on (config/llc.ts); null: off. */
  llc: LlcSchedule | null;
  /** ?appendix=skip3-512: the run of App. D.3 chosen in the appendix-tasks room (config/sequence-presets.ts). */
  appendix: SequencePresetName | null;
  issues: ConfigIssue[];
}

/** Keys that are not config fields. */
export const EXTRA_KEYS = ['preset', 'backend', 'k', 'run', 'at', 'ablate', 'pair', 'sweep', 'llc', 'appendix'] as const;

/** Unknown or repeated keys named one by one; past this many they are counted. */
export const MAX_LISTED_ISSUES = 5;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one raw value for a field: a number from plain decimal text, or an enum string. */
export function parseFieldValue(name: keyof TrainConfig, raw: string): { value: TrainConfig[keyof TrainConfig] } | { error: string } {
  const spec = FIELDS[name];
  const text = raw.trim();
  let value: unknown = text;
  if (spec.kind !== 'enum') {
    if (!DECIMAL.test(text)) return { error: `must be a number, got "${raw}"` };
    // "-0" is zero: normalize it so a decoded config equals its re-encoded self.
    value = Number(text) + 0;
    // 100,000 digits are a valid decimal but no number: name the text, not "Infinity".
    if (!Number.isFinite(value)) return { error: `must be a number in range, got "${text.length > 40 ? `${text.slice(0, 40)}…" (${text.length.toLocaleString('en-US')} characters)` : `${text}"`}` };
  }
  const problem = checkField(name, value);
  return problem ? { error: problem } : { value: value as TrainConfig[keyof TrainConfig] };
}

const FIELD_BY_KEY = new Map(CONFIG_KEYS.map((name) => [FIELDS[name].key, name]));

/** Shortens text from a URL before quoting it back to the person. */
function quote(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function decodeQuery(search: string | URLSearchParams): DecodedUrl {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const issues: ConfigIssue[] = [];
  let preset: PresetName | null = null;
  const presetRaw = params.get('preset');
  if (presetRaw !== null) {
    if (isPresetName(presetRaw)) preset = presetRaw;
    else issues.push({ key: 'preset', message: `unknown preset "${quote(presetRaw)}"`, fallback: 'the mainline configuration' });
  }
  const base = preset ? presetConfig(preset) : { ...DEFAULT_CONFIG };
  const config: TrainConfig = { ...base };

  let backend: BackendName | null = null;
  const backendRaw = params.get('backend');
  if (backendRaw !== null) {
    if ((BACKENDS as readonly string[]).includes(backendRaw)) backend = backendRaw as BackendName;
    else issues.push({ key: 'backend', message: `must be one of ${BACKENDS.join(', ')}, got "${quote(backendRaw)}"`, fallback: 'the default order' });
  }

  const seen = new Set<string>();
  // A link with thousands of junk keys gets a few named and the rest counted, not a huge list.
  let extraIssues = 0;
  const note = (issue: ConfigIssue) => {
    if (extraIssues++ < MAX_LISTED_ISSUES) issues.push(issue);
  };
  for (const [key, raw] of params) {
    if (seen.has(key)) {
      note({ key: quote(key), message: 'given more than once', fallback: 'the first value' });
      continue;
    }
    seen.add(key);
    if ((EXTRA_KEYS as readonly string[]).includes(key)) continue;
    const name = FIELD_BY_KEY.get(key);
    if (!name) {
      note({ key: quote(key), message: `unknown parameter "${quote(key)}", ignored` });
      continue;
    }
    const parsed = parseFieldValue(name, raw);
    if ('error' in parsed) {
      const fallback = base[name];
      issues.push({ key, message: `${FIELDS[name].label} ${parsed.error.replace(/"([^"]*)"/, (_, s: string) => `"${quote(s)}"`)}`, fallback: String(fallback) });
    } else {
      (config as unknown as Record<string, unknown>)[name] = parsed.value;
    }
  }

  if (extraIssues > MAX_LISTED_ISSUES) {
    const more = extraIssues - MAX_LISTED_ISSUES;
    issues.push({ key: '…', message: `and ${more.toLocaleString('en-US')} more unknown or repeated parameter${more > 1 ? 's' : ''}, ignored` });
  }

  // Rules across fields: reset the fields involved to their base values, most to blame first,
  // until the rule holds (the base configuration itself is always consistent).
  for (const problem of checkConsistency(config)) {
    for (const field of problem.fields) {
      if (!checkConsistency(config).some((p) => p.rule === problem.rule)) break;
      if (config[field] === base[field]) continue;
      (config as unknown as Record<string, unknown>)[field] = base[field];
      issues.push({ key: FIELDS[field].key, message: problem.message, fallback: `${FIELDS[field].label} = ${base[field]}` });
    }
  }
  let keyFreqs: number[] | null = null;
  const kRaw = params.get('k');
  if (kRaw !== null) {
    const parts = kRaw.split(',').map((x) => x.trim());
    const ks = parts.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
    // checkKeyFreqs says what is wrong in a whole sentence ("at most 20 key frequencies can be pinned, got 25").
    const problem = ks.some(Number.isNaN) ? `key frequencies must be whole numbers separated by commas, got "${quote(kRaw)}"` : checkKeyFreqs(ks, config.p);
    if (problem) issues.push({ key: 'k', message: problem, fallback: 'the default rule' });
    else keyFreqs = ks;
  }
  let ablations: Ablation[] = [];
  const ablateRaw = params.get('ablate');
  if (ablateRaw !== null) {
    const parsed = parseAblations(ablateRaw, config.p, config.nHeads);
    if ('error' in parsed) issues.push({ key: 'ablate', message: `intervention: ${parsed.error}`, fallback: 'none' });
    else ablations = parsed.ablations;
  }
  let pair: number | null = null;
  const pairRaw = params.get('pair');
  if (pairRaw !== null) {
    const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(pairRaw);
    if (m && Number(m[1]) < config.p && Number(m[2]) < config.p) pair = Number(m[1]) * config.p + Number(m[2]);
    else issues.push({ key: 'pair', message: `the input must be a,b with 0 ≤ a, b < ${config.p}, got "${quote(pairRaw)}"`, fallback: 'none' });
  }
  const runRaw = params.get('run');
  const run = runRaw !== null && /^[\w-]{1,40}$/.test(runRaw) ? runRaw : null;
  if (runRaw !== null && run === null) issues.push({ key: 'run', message: `"${quote(runRaw)}" is not a run name`, fallback: 'a new run' });
  const atRaw = params.get('at');
  const at = atRaw !== null && /^\d{1,9}$/.test(atRaw) ? Number(atRaw) : null;
  if (atRaw !== null && at === null) issues.push({ key: 'at', message: `the epoch to open at must be a whole number, got "${quote(atRaw)}"`, fallback: 'the last epoch' });
  const sweepRaw = params.get('sweep');
  let sweep: SweepSpec | null = null;
  if (sweepRaw !== null) {
    const decoded = decodeSweep(sweepRaw);
    sweep = decoded.spec;
    for (const i of decoded.issues) issues.push({ ...i, message: `sweep: ${i.message}`, fallback: 'a single run' });
  }
  const llcRaw = params.get('llc');
  let llc: LlcSchedule | null = null;
  if (llcRaw !== null) {
    const parsed = parseLlcSchedule(llcRaw);
    if ('error' in parsed) issues.push({ key: 'llc', message: `LLC over training: ${parsed.error.slice(0, 200)}`, fallback: 'off' });
    else llc = parsed.value;
  }
  const appendixRaw = params.get('appendix');
  const appendix = appendixRaw !== null && isSequencePreset(appendixRaw) ? appendixRaw : null;
  if (appendixRaw !== null && appendix === null) issues.push({ key: 'appendix', message: `"${quote(appendixRaw)}" is not a run of the appendix's tasks; known: ${SEQUENCE_PRESET_NAMES.join(', ')}`, fallback: SEQUENCE_PRESET_NAMES[0] });
  return { config, preset, backend, keyFreqs, ablations, pair, run, at, sweep, llc, appendix, issues };
}

/** The query string (without '?') that decodes back to exactly this state. */
export function encodeQuery(state: UrlState): string {
  const params = new URLSearchParams();
  const base = state.preset ? presetConfig(state.preset) : DEFAULT_CONFIG;
  if (state.preset) params.set('preset', state.preset);
  for (const name of CONFIG_KEYS) {
    if (state.config[name] !== base[name]) params.set(FIELDS[name].key, String(state.config[name]));
  }
  if (state.keyFreqs) params.set('k', state.keyFreqs.join(','));
  if (state.backend) params.set('backend', state.backend);
  if (state.ablations && state.ablations.length > 0) params.set('ablate', formatAblations(state.ablations));
  if (state.pair !== undefined && state.pair !== null) params.set('pair', `${Math.floor(state.pair / state.config.p)},${state.pair % state.config.p}`);
  // Commas and colons read better than %2C and %3A in a shared link, and are safe in a query string.
  return params.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
}
