/**
 * `train`: trains headless with the worker's own TrainingSession, printing progress and writing
 * `{config, backend, history}` as JSON (history: one object per checkpoint, epoch 0 first).
 */
import { writeFileSync } from 'node:fs';
import { Trainer } from '../model/trainer.ts';
import type { Checkpoint } from '../worker/protocol.ts';
import { TrainingSession } from '../worker/session.ts';
import { UsageError, intFlag, type ParsedArgs } from './args.ts';
import { startNodeBackend } from './backends.ts';
import { ProgressReporter } from './progress.ts';

export const TRAIN_FLAGS = new Set(['every', 'out', 'quiet']);

export interface TrainResult {
  config: Trainer['config'];
  backend: { name: string; adapter: string };
  history: Checkpoint[];
}

export async function trainCommand(args: ParsedArgs): Promise<TrainResult> {
  const { decoded, flags } = args;
  for (const name of flags.keys()) if (!TRAIN_FLAGS.has(name)) throw new UsageError(`unknown flag --${name}`);
  if (decoded.issues.length > 0) {
    throw new UsageError(decoded.issues.map((i) => `--${i.key}: ${i.message}`).join('\n'));
  }
  const config = decoded.config;
  const every = intFlag(flags, 'every', Math.max(1, Math.round(config.epochs / 100)));
  const quiet = flags.get('quiet') === 'true';
  const backend = await startNodeBackend(decoded.backend);
  const log = (s: string) => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  log(`grokscope: P=${config.p}, ${config.frac * 100}% train, λ=${config.weightDecay}, lr=${config.lr}, ${config.epochs} epochs on ${backend.name} (${backend.adapter})`);
  for (const s of backend.skipped) log(`  skipped ${s}`);

  const history: Checkpoint[] = [];
  const progress = new ProgressReporter(config.epochs, process.stderr, quiet);
  let failure: string | null = null;
  const session = new TrainingSession({
    createTrainer: (c) => new Trainer(c),
    backendInfo: () => backend,
    checkpointEvery: every,
    post: (e) => {
      switch (e.type) {
        case 'checkpoint':
          history.push(e.checkpoint);
          progress.checkpoint(e.checkpoint);
          return;
        case 'progress':
          progress.progress(e.epoch, e.epochsPerSec, e.trainLoss);
          return;
        case 'error':
          failure = e.message;
          return;
        case 'ready':
        case 'status':
          return;
      }
    },
  });
  const interrupt = () => {
    log('\ninterrupted: stopping after the current block and writing what was trained');
    void session.handle({ type: 'pause' });
  };
  process.once('SIGINT', interrupt);
  try {
    await session.handle({ type: 'init', config, backend: decoded.backend });
    if (failure) throw new Error(failure);
    await session.handle({ type: 'start' });
    await session.idle();
  } finally {
    process.off('SIGINT', interrupt);
    progress.done();
  }
  const result: TrainResult = { config: { ...session.currentTrainer!.config }, backend: { name: backend.name, adapter: backend.adapter }, history };
  session.dispose();
  const json = JSON.stringify(result);
  const out = flags.get('out');
  if (out) {
    writeFileSync(out, json);
    log(`wrote ${history.length} checkpoints to ${out}`);
  } else {
    process.stdout.write(`${json}\n`);
  }
  if (failure) throw new Error(failure);
  return result;
}
