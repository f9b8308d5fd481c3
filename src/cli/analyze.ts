/**
 * `analyze <file.safetensors> [--key-freqs 14,35,41]`: the paper's measures of a checkpoint, as one
 * JSON object on standard output. Train and test pairs come from the file's train_indices when it
 * has them, otherwise from the split its config describes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { Analyzer, type LastPositionActivations } from '../analysis/analyzer.ts';
import { perFrequency } from '../analysis/fourier.ts';
import { keyFreqsFromNorms, KEY_FREQ_RULE } from '../analysis/keyfreqs.ts';
import { checkKeyFreqs } from '../config/keyfreqs.ts';
import type { CheckpointData } from '../model/checkpoint.ts';
import { unflattenWeights } from '../model/params.ts';
import { readImportFile } from '../run/import-file.ts';
import { Trainer } from '../model/trainer.ts';
import { UsageError, type ParsedArgs } from './args.ts';
import { startNodeBackend } from './backends.ts';
import { inflateNode } from './inflate-node.ts';

/**
 * A checkpoint, gzipped or not, by the page's own reader; a run file gives its latest weights (its
 * resume state, else its last snapshot).
 */
async function readAnalyzable(bytes: Uint8Array): Promise<CheckpointData> {
  const file = await readImportFile(bytes, { inflate: inflateNode });
  if (file.kind === 'checkpoint') return file.checkpoint;
  const { run } = file;
  const latest = run.resume ? { epoch: run.resume.t, weights: run.resume.weights } : run.snapshots.at(-1);
  if (!latest) throw new Error('this run file holds no weights to analyze');
  return { config: run.config, weights: unflattenWeights(run.config, latest.weights), epoch: latest.epoch, trainIndices: run.trainIndices };
}

export const ANALYZE_FLAGS = new Set(['key-freqs']);

export function parseKeyFreqsFlag(raw: string | undefined, p: number): number[] | null {
  if (raw === undefined) return null;
  const ks = raw.split(',').map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : NaN));
  const problem = ks.some(Number.isNaN) ? `use whole numbers separated by commas, got "${raw}"` : checkKeyFreqs(ks, p);
  if (problem) throw new UsageError(`--key-freqs: ${problem}`);
  return ks;
}

export async function analyzeCommand(args: ParsedArgs): Promise<Record<string, unknown>> {
  for (const name of args.flags.keys()) if (!ANALYZE_FLAGS.has(name)) throw new UsageError(`unknown flag --${name}`);
  if (args.query.length > 0 && args.query !== `backend=${args.decoded.backend}`) {
    throw new UsageError('analyze takes the model from the file; only --backend and --key-freqs apply');
  }
  const file = args.positional[0];
  if (!file) throw new UsageError('analyze needs a .safetensors file');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const ckpt = await readAnalyzable(bytes);
  const pinned = parseKeyFreqsFlag(args.flags.get('key-freqs'), ckpt.config.p);
  await startNodeBackend(args.decoded.backend);
  const trainer = new Trainer(ckpt.config, { weights: ckpt.weights, trainIndices: ckpt.trainIndices ?? undefined });
  const analyzer = new Analyzer(trainer.config, trainer.dataset);
  try {
    const spectra = analyzer.weightSpectra(trainer.paramTensors);
    const normsWL = perFrequency((await spectra.data()).slice(ckpt.config.p));
    spectra.dispose();
    const keyFreqs = pinned ?? keyFreqsFromNorms(normsWL);
    let acts: LastPositionActivations | null = null;
    const last = trainer.config.nLayers - 1;
    let pattern: tf.Tensor3D | null = null;
    let mlpPost: tf.Tensor2D | null = null;
    const logits = trainer.logitsAll({
      tap: (layer, a) => {
        if (layer === 0) pattern = tf.keep(a.pattern);
        if (layer === last) mlpPost = tf.keep(a.mlpPost);
      },
    });
    acts = { pattern: pattern!, mlpPost: mlpPost! };
    const packed = tf.tidy(() => tf.concat([trainer.evaluate(logits), analyzer.cheap(trainer.paramTensors, logits, keyFreqs), analyzer.heavy(trainer.paramTensors, logits, acts!, new Int32Array(0))]));
    const values = (await packed.data()) as Float32Array;
    tf.dispose([packed, logits, acts.pattern, acts.mlpPost]);
    const cheapAt = 5;
    const cheap = analyzer.unpackCheap(values, keyFreqs, cheapAt);
    const heavy = analyzer.unpackHeavy(values.subarray(cheapAt + analyzer.cheapLength(keyFreqs.length)), trainer.config.dMlp, trainer.config.nHeads, new Int32Array(0));
    return {
      file,
      epoch: ckpt.epoch,
      config: trainer.config,
      split: ckpt.trainIndices ? 'train_indices from the file' : 'seeded split from the config',
      trainLoss: values[0],
      trainAcc: values[1],
      testLoss: values[2],
      testAcc: values[3],
      sumSquaredWeights: values[4],
      keyFreqs,
      keyFreqsRule: pinned ? 'given by --key-freqs' : KEY_FREQ_RULE,
      restrictedLoss: cheap.restrictedLoss,
      restrictedAcc: cheap.restrictedAcc,
      excludedLoss: cheap.excludedLoss,
      excludedLossPerFreq: Object.fromEntries(keyFreqs.map((k, i) => [k, cheap.excludedLossPerFreq[i]])),
      giniWE: cheap.giniWE,
      giniWL: cheap.giniWL,
      normsWE: Array.from(cheap.normsWE),
      normsWL: Array.from(cheap.normsWL),
      cosCoefficients: Array.from(cheap.cosCoefficients),
      logitFVE: cheap.logitFVE,
      neuronsWellExplained: heavy.neuronsWellExplained,
      neuronFreq: Array.from(heavy.neuronFreq),
      neuronFVE: Array.from(heavy.neuronFVE),
    };
  } finally {
    analyzer.dispose();
    trainer.dispose();
  }
}
