/**
 * Speed: epochs/s, achieved GFLOP/s (matrix products counted from the shapes), the backend and
 * its adapter, and the time to grok — so people can compare machines. "Benchmark" pauses the run
 * and times this backend with the same harness as `npm run bench`.
 */
import { useState } from 'react';
import { GROKKED_ACC } from '../../analysis/phases.ts';
import { benchWorker } from '../../client/client.ts';
import { epochFlops } from '../../model/flops.ts';
import { benchPaths } from '../../model/transformer/forward-path.ts';
import { formatDuration, formatInt, formatRate } from '../../run/format.ts';
import type { BenchResult } from '../../run/protocol.ts';
import { useAppStore } from '../../store/store.ts';
import { describeChoice } from './describe-backend.ts';

type BenchState = { state: 'idle' } | { state: 'running' } | { state: 'done'; results: BenchResult[] } | { state: 'failed'; message: string };

export function SpeedPanel() {
  const applied = useAppStore((s) => s.applied);
  /** The backend in hand while the others are timed (#25), then the one chosen. */
  const shown = useAppStore((s) => s.backend ?? s.backendInHand);
  const status = useAppStore((s) => s.status);
  const epochsPerSec = useAppStore((s) => s.epochsPerSec);
  const trainSeconds = useAppStore((s) => s.trainSeconds);
  const grokked = useAppStore((s) => s.grokked);
  const [bench, setBench] = useState<BenchState>({ state: 'idle' });
  const gflopPerEpoch = applied ? epochFlops(applied).train / 1e9 : NaN;
  const live = status === 'running' && epochsPerSec > 0;

  const runBench = async () => {
    if (!applied) return;
    setBench({ state: 'running' });
    const answer = await benchWorker({ config: applied, paths: benchPaths(applied), blocks: 5, targetBlockMs: 500 });
    setBench(answer.error || answer.results.length === 0 ? { state: 'failed', message: answer.error ?? 'no result' } : { state: 'done', results: answer.results });
  };

  return (
    <section className="panel speed" aria-label="Speed" data-testid="speed-panel">
      <h2>Speed</h2>
      <dl className="speed-figures">
        <dt>epochs/s</dt>
        <dd data-testid="speed-eps">{live ? formatRate(epochsPerSec) : '–'}</dd>
        <dt title="Matrix-product FLOPs of an update, counted from the shapes, times epochs/s">GFLOP/s</dt>
        <dd data-testid="speed-gflops">{live ? (epochsPerSec * gflopPerEpoch).toFixed(1) : '–'}</dd>
        <dt>backend</dt>
        <dd data-testid="speed-backend">{shown ? `${shown.name} · ${shown.adapter}` : '–'}</dd>
        <dt title="Each backend that started was timed on a few updates of this configuration; the fastest trains">chosen by</dt>
        <dd data-testid="speed-choice">{shown ? describeChoice(shown) : '–'}</dd>
        <dt title={`First checkpoint with test accuracy ≥ ${GROKKED_ACC * 100}%`}>time to grok</dt>
        <dd data-testid="speed-grok">
          {grokked
            ? `epoch ${formatInt(grokked.epoch)}${grokked.trainSeconds !== null ? `, after ${formatDuration(grokked.trainSeconds)} of training` : ''}`
            : trainSeconds > 0
              ? `not yet (${formatDuration(trainSeconds)} trained)`
              : 'not yet'}
        </dd>
      </dl>
      <p className="hint">
        {Number.isFinite(gflopPerEpoch) ? `${gflopPerEpoch.toFixed(2)} GFLOP an epoch. ` : ''}
        <button type="button" onClick={runBench} disabled={!applied || bench.state === 'running'} data-testid="speed-bench" title="Pauses training and times this backend (median of 5 blocks), the fast path against the general one">
          {bench.state === 'running' ? 'Benchmarking…' : 'Benchmark this backend'}
        </button>
      </p>
      {applied && (applied.loss === 'stablemax' || applied.attnRate !== 1 || applied.orthoGrad === 1) && (
        <p className="hint" data-testid="speed-knobs">
          {applied.loss === 'stablemax' || applied.attnRate !== 1
            ? `${applied.loss === 'stablemax' ? 'StableMax' : `Attention rate ${applied.attnRate}`} trains on the general step: WebGPU's fused step computes softmax's loss and attention only. `
            : ''}
          {applied.orthoGrad === 1 ? '⊥Grad adds a projection of each weight tensor to every update.' : ''}
        </p>
      )}
      {bench.state === 'failed' && <p className="field-error" role="alert">Benchmark failed: {bench.message}</p>}
      {bench.state === 'done' && (
        <table className="bench-table" data-testid="speed-bench-result">
          <thead>
            <tr>
              <th>path</th>
              <th>ms/epoch</th>
              <th>GFLOP/s</th>
            </tr>
          </thead>
          <tbody>
            {bench.results.map((r) => (
              <tr key={r.path}>
                <td>{r.path}</td>
                <td>{r.msPerEpoch.toFixed(1)}</td>
                <td>{r.gflops.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={3}>
                {bench.results.length === 2 && `fast path ${(bench.results[1].msPerEpoch / bench.results[0].msPerEpoch).toFixed(2)}× faster; `}
                {Number.isFinite(bench.results[0].analysisMs) && `a checkpoint's analysis ${Math.round(bench.results[0].analysisMs)} ms`}
              </td>
            </tr>
          </tfoot>
        </table>
      )}
    </section>
  );
}
