/**
 * The page's sweep, trained in the sweep worker: runs of one shape train batched (a leading model
 * axis, src/model/batched), one batch after another, each run measured with the single run's own
 * analysis (runner.ts) so that a finished run opens with every single-run view.
 */
import type { BackendInfo } from '../../config/backends.ts';
import type { TrainConfig } from '../../config/schema.ts';
import { largestBatch } from '../../model/batched/memory.ts';
import { SHAPE_KEYS } from '../../model/batched/batched-trainer.ts';
import type { DeviceLimits } from '../../model/memory.ts';
import type { SweepCommand, SweepEvent } from '../../run/sweep-protocol.ts';
import { measureFinal } from './final.ts';
import { trainBatch } from './runner.ts';

/** Run indices to train together: same shape, in sweep order, at most `batch` (and what fits). */
export function planBatches(configs: TrainConfig[], batch: number, limits: DeviceLimits | null): { batches: number[][]; problem: string | null } {
  const groups = new Map<string, number[]>();
  configs.forEach((c, i) => {
    const key = SHAPE_KEYS.map((k) => c[k]).join('|');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const batches: number[][] = [];
  for (const g of groups.values()) {
    const size = limits ? largestBatch(configs[g[0]], Math.min(batch, g.length), limits) : Math.min(batch, g.length);
    if (size === 0) return { batches: [], problem: `one model of P = ${configs[g[0]].p}, d_mlp = ${configs[g[0]].dMlp} does not fit ${limits!.backend}` };
    for (let i = 0; i < g.length; i += size) batches.push(g.slice(i, i + size));
  }
  return { batches, problem: null };
}

/** Trains the sweep; `stopped()` is checked at every checkpoint (the worker yields there). */
export async function runSweep(
  cmd: Extract<SweepCommand, { type: 'train' }>,
  post: (e: SweepEvent) => void,
  opts: { backend: BackendInfo; stopped: () => boolean; limits: DeviceLimits | null; yieldToMessages: () => Promise<void> },
): Promise<{ stopped: boolean }> {
  const { batches, problem } = planBatches(cmd.configs, cmd.batch, opts.limits);
  if (problem) throw new Error(problem);
  post({ type: 'started', backend: opts.backend, batches });
  for (const runs of batches) {
    if (opts.stopped()) return { stopped: true };
    const results = await trainBatch(
      runs.map((i) => cmd.configs[i]),
      {
        epochs: cmd.epochs,
        every: cmd.every,
        snapshotBudgetBytes: cmd.snapshotBudgetBytes,
        stopped: opts.stopped,
        onCheckpoint: async (epoch, rows) => {
          post({ type: 'checkpoint', epoch, runs, rows: rows.map((r) => ({ epoch: r.epoch, trainLoss: r.trainLoss, testLoss: r.testLoss, trainAcc: r.trainAcc, testAcc: r.testAcc })) });
          await opts.yieldToMessages();
        },
      },
    );
    for (const [k, r] of results.entries()) {
      const run = { config: r.config, trainIndices: r.trainIndices, keyFreqs: r.keyFreqs, snapshots: r.snapshots.map((s) => ({ epoch: s.epoch, weights: s.weights })), resume: r.state };
      // Tables 3–6 (run/seed-tables.ts) of the final weights; a failure costs the run only its row.
      let final = null;
      let finalProblem: string | undefined;
      try {
        final = await measureFinal(r);
      } catch (err) {
        finalProblem = err instanceof Error ? err.message : String(err);
      }
      post({ type: 'run', index: runs[k], run, history: r.history, final, finalProblem });
    }
  }
  return { stopped: opts.stopped() };
}
