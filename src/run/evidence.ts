/**
 * What the page asks of a checkpoint's evidence (§4, ANALYSIS.md §7), an intervention and one
 * input, and what the worker answers: shared by worker, CLI and page.
 */
import type { Outcome, ProbeResult } from '../analysis/ablations.ts';
import type { EvidenceMeasures } from '../analysis/evidence.ts';
import type { Ablation } from '../config/ablations.ts';

export interface EvidenceRequest {
  /** The epoch to look at (its nearest snapshot), or null for the live weights. */
  epoch: number | null;
  ablations: Ablation[];
  /** The pair a·P + b to look at, or null. */
  pair: number | null;
}

export interface EvidenceResult extends EvidenceMeasures {
  epoch: number;
  p: number;
  heads: number;
  dMlp: number;
  /** The K the K-dependent measures used. */
  keyFreqs: number[];
  /** Each neuron's frequency (§5.11), which the neuron clusters are made of. */
  neuronFreq: Int16Array;
  /** The run's train pairs (a·P + b), to mark on the correctness map. */
  trainPairs: Int32Array;
  /** Loss, accuracy and correctness map of the checkpoint as it is. */
  before: Outcome;
  ablations: Ablation[];
  /** The same after the intervention (null: none, or it could not be applied: see interventionError). */
  after: Outcome | null;
  interventionError: string | null;
  /** §5.10 coefficients of cos(w_k(a+b−c)) (index k − 1) and their FVE, after the intervention if any. */
  cosCoefficients: Float32Array;
  logitFVE: number;
  /** The chosen pair before and after the intervention. */
  probe: ProbeResult | null;
  probeAfter: ProbeResult | null;
}
