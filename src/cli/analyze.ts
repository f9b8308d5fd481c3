/**
 * `analyze <file.safetensors> [--key-freqs 14,35,41]`: the paper's measures of a checkpoint, as one
 * JSON object on standard output. Train and test pairs come from the file's train_indices when it
 * has them, otherwise from the split its config describes. `analyze DIR` of a sweep directory
 * (`sweep --record`): Tables 3–6 over its runs' final weights (tables.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Analyzer, type LastPositionActivations } from '../analysis/analyzer.ts';
import { perFrequency } from '../analysis/fourier.ts';
import { keyFreqsFromNorms, KEY_FREQ_RULE } from '../analysis/keyfreqs.ts';
import { checkKeyFreqs } from '../config/keyfreqs.ts';
import { Trainer } from '../model/trainer.ts';
import { EVAL_LENGTH } from '../model/evaluate.ts';
import { UsageError, type ParsedArgs } from './node/args.ts';
import { startNodeBackend } from './node/backends.ts';
import { EVIDENCE_FLAGS, evidenceFields } from './evidence.ts';
import { readModelFile, readSequenceFile } from './model-file.ts';
import { analyzeSequence, sequenceTestSet } from './analyze-sequence.ts';
import { LLC_FLAGS, llcFields, parseLlcFlags } from './llc.ts';
import { isSweepDir, sweepTables } from './tables.ts';
import { clockPizzaMeasures } from '../analysis/pizza.ts';
import { CLOCK_PIZZA_REFERENCE } from '../run/clock-pizza.ts';

export const ANALYZE_FLAGS = new Set<string>(['key-freqs', 'test-size', ...EVIDENCE_FLAGS, ...LLC_FLAGS]);

export function parseKeyFreqsFlag(raw: string | undefined, p: number): number[] | null {
  if (raw === undefined) return null;
  const ks = raw.split(',').map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : NaN));
  const problem = ks.some(Number.isNaN) ? `use whole numbers separated by commas, got "${raw}"` : checkKeyFreqs(ks, p);
  if (problem) throw new UsageError(`--key-freqs: ${problem}`);
  return ks;
}

export async function analyzeCommand(args: ParsedArgs): Promise<Record<string, unknown>> {
  for (const name of args.flags.keys()) if (!ANALYZE_FLAGS.has(name)) throw new UsageError(`unknown flag --${name}`);
  // --ablate and --pair are URL keys too (so a shared link's intervention reads the same): take them here.
  const query = new URLSearchParams(args.query);
  for (const key of ['ablate', 'pair']) {
    const v = query.get(key);
    if (v !== null) args.flags.set(key, v);
    query.delete(key);
  }
  // The split may be named when the file does not carry it (--split python --seed 0 --frac 0.3).
  const splitKeys = ['split', 'seed', 'frac'] as const;
  const given = [...query.keys()];
  if (given.some((k) => k !== 'backend' && !(splitKeys as readonly string[]).includes(k))) {
    throw new UsageError('analyze takes the model from the file; only --backend, --key-freqs, --ablate, --pair, --epoch and the split (--split, --seed, --frac) apply');
  }
  if (args.decoded.issues.length > 0) throw new UsageError(args.decoded.issues.map((i) => `--${i.key}: ${i.message}`).join('\n'));
  const file = args.positional[0];
  if (file && isSweepDir(file)) return { ...(await sweepTables(file, (run) => analyzeCommand({ ...args, positional: [run], flags: new Map(args.flags) }))) };
  if (!file) throw new UsageError('analyze needs a model file: .safetensors, a torch .pth, a folder of .pth files, or a run file');
  // The appendix tasks' files (App. D.3) are measured on fresh problems, not on P² pairs.
  const seq = readSequenceFile(file);
  if (seq) {
    await startNodeBackend(args.decoded.backend);
    return analyzeSequence(file, seq, sequenceTestSet(seq, args.flags, query.get('seed')));
  }
  if (args.flags.has('test-size')) throw new UsageError("--test-size applies to the appendix tasks' files (5-digit addition, repeated subsequences, skip trigrams)");
  const { checkpoint: ckpt, torch, source } = await readModelFile(file, args.flags.get('epoch'));
  for (const k of splitKeys) if (given.includes(k)) (ckpt.config as unknown as Record<string, unknown>)[k] = args.decoded.config[k];
  const pinned = parseKeyFreqsFlag(args.flags.get('key-freqs'), ckpt.config.p);
  const llc = parseLlcFlags(args.flags);
  await startNodeBackend(args.decoded.backend);
  const trainer = new Trainer(ckpt.config, { weights: ckpt.weights, trainIndices: ckpt.trainIndices ?? undefined });
  const analyzer = new Analyzer(trainer.config, trainer.dataset);
  try {
    const measured = await checkpointMeasures(trainer, analyzer, pinned);
    const keyFreqs = measured.keyFreqs;
    const evidence = await evidenceFields(trainer, analyzer, keyFreqs, args.flags, ckpt.epoch);
    // Last: the chains move the weights (and put them back).
    const llcResult = llc ? await llcFields(trainer, llc) : {};
    return {
      file,
      source,
      epoch: ckpt.epoch,
      config: trainer.config,
      split: ckpt.trainIndices ? (torch?.splitSource ?? 'train_indices from the file') : given.includes('split') ? `--split ${ckpt.config.split}` : (torch?.splitSource ?? 'seeded split from the config'),
      ...(torch ? { read: torch.description, fileTrainLoss: torch.trainLosses?.findLast(Number.isFinite) ?? torch.lossPoints.at(-1)?.train ?? null, fileTestLoss: torch.testLosses?.findLast(Number.isFinite) ?? torch.lossPoints.at(-1)?.test ?? null } : {}),
      ...measured,
      keyFreqsRule: pinned ? 'given by --key-freqs' : KEY_FREQ_RULE,
      clockPizzaReference: CLOCK_PIZZA_REFERENCE,
      ...evidence,
      ...llcResult,
    };
  } finally {
    analyzer.dispose();
    trainer.dispose();
  }
}

/**
 * The paper's measures of the trainer's weights (one heavy pass, as a checkpoint of the page):
 * losses and accuracies, §5's progress measures, the neurons' frequencies, clock or pizza.
 * `pinned`: key frequencies to use instead of the rule's (`keyFreqs` says which were used).
 */
export async function checkpointMeasures(trainer: Trainer, analyzer: Analyzer, pinned: number[] | null) {
  const { p } = trainer.config;
  const spectra = analyzer.weightSpectra(trainer.paramTensors);
  const normsWLAll = perFrequency((await spectra.data()).slice(p));
  spectra.dispose();
  const keyFreqs = pinned ?? keyFreqsFromNorms(normsWLAll);
  const last = trainer.config.nLayers - 1;
  let pattern: tf.Tensor3D | null = null;
  let mlpPost: tf.Tensor2D | null = null;
  const logits = trainer.logitsAll({
    tap: (layer, a) => {
      if (layer === 0) pattern = tf.keep(a.pattern);
      if (layer === last) mlpPost = tf.keep(a.mlpPost);
    },
  });
  const acts: LastPositionActivations = { pattern: pattern!, mlpPost: mlpPost! };
  const packed = tf.tidy(() => tf.concat([trainer.evaluate(logits), analyzer.cheap(trainer.paramTensors, logits, keyFreqs), analyzer.heavy(trainer.paramTensors, logits, acts, new Int32Array(0))]));
  const values = (await packed.data()) as Float32Array;
  // Zhong et al. 2023 (analysis/pizza.ts): clock or pizza.
  const pizza = clockPizzaMeasures(trainer.paramTensors, trainer.config, logits, trainer.dataset.labels);
  const [distanceIrrelevance, gradientSymmetricity] = (await pizza.data()) as Float32Array;
  tf.dispose([pizza, packed, logits, acts.pattern, acts.mlpPost]);
  const cheap = analyzer.unpackCheap(values, keyFreqs, EVAL_LENGTH);
  const heavy = analyzer.unpackHeavy(values.subarray(EVAL_LENGTH + analyzer.cheapLength(keyFreqs.length)), trainer.config.dMlp, trainer.config.nHeads, new Int32Array(0));
  const nTrain = trainer.dataset.train.length;
  const nTest = trainer.dataset.test.length;
  return {
    trainLoss: values[0],
    trainAcc: values[1],
    testLoss: values[2],
    testAcc: values[3],
    // All P² pairs: comparable whatever the split (the means of train and test, weighted by size).
    allLoss: (values[0] * nTrain + values[2] * nTest) / p ** 2,
    allAcc: (values[1] * nTrain + values[3] * nTest) / p ** 2,
    sumSquaredWeights: values[4],
    softmaxCollapse: values[5],
    keyFreqs,
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
    distanceIrrelevance,
    gradientSymmetricity,
    neuronFreq: Array.from(heavy.neuronFreq),
    neuronFVE: Array.from(heavy.neuronFVE),
  };
}
