/**
 * Interventions on a checkpoint (the `ablate` URL key and the CLI's `--ablate`): one syntax for
 * both, parsed and written here. A list of items separated by commas, each `target:index[:mode]`:
 *
 *   we:14        frequency 14 (its cos and sin components) removed from the embedding W_E
 *   wl:14        frequency 14 removed from W_L = W_out·W_U (the neurons' map to the logits)
 *   logits:14    the directions cos/sin(w_14(a+b)) removed from the logits (§5.5, one frequency)
 *   neurons:14   the cluster of neurons whose frequency (§5.11) is 14
 *   head:0       attention head 0 of the first block (heads count from 0, as in TransformerLens)
 *
 * mode is `zero` (default) or `mean` (replaced by its mean over all P² pairs). A frequency's
 * component averages to 0 over the inputs, so for we, wl and logits both modes are the same.
 */

export const ABLATION_TARGETS = ['we', 'wl', 'logits', 'neurons', 'head'] as const;
export type AblationTarget = (typeof ABLATION_TARGETS)[number];
export type AblationMode = 'zero' | 'mean';

export interface Ablation {
  target: AblationTarget;
  /** A frequency k in [1, (P−1)/2], or a head index in [0, heads). */
  index: number;
  mode: AblationMode;
}

/** At most this many items in one intervention. */
export const MAX_ABLATIONS = 16;

export const ABLATION_LABELS: Record<AblationTarget, string> = {
  we: 'frequency in W_E',
  wl: 'frequency in W_L',
  logits: 'frequency in the logits',
  neurons: 'neuron cluster of frequency',
  head: 'head',
};

/** Parses the syntax above for a model with modulus p and `heads` heads; never throws. */
export function parseAblations(raw: string, p: number, heads: number): { ablations: Ablation[] } | { error: string } {
  const text = raw.trim();
  if (text === '' || text === 'none') return { ablations: [] };
  const items = text.split(',').map((s) => s.trim());
  if (items.length > MAX_ABLATIONS) return { error: `at most ${MAX_ABLATIONS} items` };
  const out: Ablation[] = [];
  for (const item of items) {
    const m = /^([a-z]+):(\d{1,4})(?::(zero|mean))?$/.exec(item);
    if (!m) return { error: `"${item.slice(0, 30)}" is not target:index[:zero|mean]` };
    const target = m[1] as AblationTarget;
    if (!(ABLATION_TARGETS as readonly string[]).includes(target)) return { error: `unknown target "${m[1]}" (use ${ABLATION_TARGETS.join(', ')})` };
    const index = Number(m[2]);
    if (target === 'head') {
      if (index >= heads) return { error: `head ${index} does not exist (heads 0 to ${heads - 1})` };
    } else if (index < 1 || index > (p - 1) / 2) {
      return { error: `frequency ${index} is not in [1, ${(p - 1) / 2}]` };
    }
    const ab: Ablation = { target, index, mode: (m[3] as AblationMode | undefined) ?? 'zero' };
    if (!out.some((x) => x.target === ab.target && x.index === ab.index)) out.push(ab);
  }
  return { ablations: out };
}

/** The canonical text of a list (what the URL and the CLI show). */
export function formatAblations(list: readonly Ablation[]): string {
  return list.map((a) => `${a.target}:${a.index}${a.mode === 'mean' ? ':mean' : ''}`).join(',');
}

/** A short human description, e.g. "head 0 (mean), W_E frequency 14". */
export function describeAblations(list: readonly Ablation[]): string {
  if (list.length === 0) return 'none';
  return list.map((a) => `${ABLATION_LABELS[a.target]} ${a.index}${a.mode === 'mean' ? ' (mean)' : ''}`).join(', ');
}
