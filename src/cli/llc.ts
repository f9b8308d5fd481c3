/**
 * `analyze --llc`: the local learning coefficient of the checkpoint (analysis/llc.ts), with every
 * setting of the SGLD chains a flag (defaults: LLC_DEFAULTS; nβ = batch / ln batch). The split's
 * --seed is taken already, so the chains' seed is --llc-seed.
 */
import { LLC_DEFAULTS, SETTLE_TOLERANCE, estimateLLC, type LlcResult, type LlcSettings } from '../analysis/llc.ts';
import { transformerLlcModel } from '../analysis/llc-model.ts';
import type { Trainer } from '../model/trainer.ts';
import { UsageError } from './node/args.ts';

const NUMBER_FLAGS: Record<string, keyof LlcSettings> = {
  'llc-eps': 'eps',
  'llc-gamma': 'gamma',
  'llc-nbeta': 'nbeta',
  'llc-chains': 'chains',
  'llc-draws': 'draws',
  'llc-batch': 'batch',
  'llc-seed': 'seed',
};
const WHOLE = new Set<keyof LlcSettings>(['chains', 'draws', 'batch', 'seed']);

export const LLC_FLAGS = ['llc', ...Object.keys(NUMBER_FLAGS)] as const;

/** The settings the flags give, or null without --llc (then no --llc-* flag may be given). */
export function parseLlcFlags(flags: Map<string, string>): Partial<LlcSettings> | null {
  const on = flags.get('llc') === 'true';
  const settings: Partial<LlcSettings> = {};
  for (const [flag, key] of Object.entries(NUMBER_FLAGS)) {
    const raw = flags.get(flag);
    if (raw === undefined) continue;
    if (!on) throw new UsageError(`--${flag} needs --llc`);
    const v = Number(raw);
    const whole = WHOLE.has(key);
    const ok = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim()) && Number.isFinite(v) && (whole ? Number.isSafeInteger(v) && v >= (key === 'seed' ? 0 : 1) : v > 0 || (key === 'gamma' && v === 0));
    if (!ok) throw new UsageError(`--${flag} must be ${whole ? `a whole number ≥ ${key === 'seed' ? 0 : 1}` : key === 'gamma' ? 'a number ≥ 0' : 'a number > 0'}, got "${raw}"`);
    settings[key] = v;
  }
  return on ? settings : null;
}

export const SETTLE_RULE = `settled: the chains' mean drift of the loss above L(w*) from the third to the last quarter of the draws is within ${SETTLE_TOLERANCE * 100}% of the last quarter's mean, or within twice its standard error over the chains (settledPerChain: each chain's drift within ${SETTLE_TOLERANCE * 100}%)`;

export async function llcFields(trainer: Trainer, settings: Partial<LlcSettings>): Promise<{ llc: LlcResult & { defaults: typeof LLC_DEFAULTS; error: number; settleRule: string } }> {
  const r = await estimateLLC(transformerLlcModel(trainer), settings);
  return { llc: { ...r, error: r.llcStd / Math.sqrt(r.settings.chains), defaults: LLC_DEFAULTS, settleRule: SETTLE_RULE } };
}
