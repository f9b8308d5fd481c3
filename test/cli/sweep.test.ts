import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UsageError, parseArgs } from '../../src/cli/node/args.ts';
import { extractVary, mergeCommand, resolveShard, sweepCommand } from '../../src/cli/sweep.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { decodeRun } from '../../src/files/run-file.ts';

const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--lr', '0.01', '--epochs', '20', '--every', '10'];
const VARY = ['--vary', 'wd=0,1', '--vary', 'seed=0-2'];
const BOOLEAN = new Set(['quiet', 'record', 'llc']);

function sweepArgs(argv: string[]) {
  const { rest, vary } = extractVary(['sweep', ...argv]);
  return { args: parseArgs(rest, BOOLEAN), vary };
}

/** `npm run cli -- …` as its own process. */
function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

const strip = (run: { history: object[] }) => JSON.stringify(run.history);

describe('sweep (CLI)', () => {
  it('reads the shard from --shard, a Kubernetes Indexed Job or a Slurm array, and names bad ones', () => {
    expect(resolveShard('2/5', {})).toMatchObject({ shard: 2, shards: 5 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '4' })).toMatchObject({ shard: 3, shards: 4 });
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '3' })).toMatchObject({ shard: 2, shards: 4 });
    expect(resolveShard(undefined, {})).toMatchObject({ shard: 0, shards: 1 });
    expect(() => resolveShard('4/4', {})).toThrow(UsageError);
    expect(() => resolveShard('1:4', {})).toThrow(/I\/N/);
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: 'x', JOB_COMPLETIONS: '2' })).toThrow(/JOB_COMPLETION_INDEX/);
  });

  it('writes sweep.json and each run as train --out writes it; a run equals its train run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-sweep-'));
    const { args, vary } = sweepArgs([...SMALL, ...VARY, '--out', dir, '--quiet', '--record']);
    const index = await sweepCommand(args, vary);
    expect(index.runs).toHaveLength(6);
    const onDisk = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    expect(onDisk.runs.map((r: { config: { weightDecay: number; seed: number } }) => [r.config.weightDecay, r.config.seed])).toEqual([
      [0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2],
    ]);
    // The run wd=1, seed=2 against `train` of the same configuration.
    const entry = onDisk.runs[5];
    const run = JSON.parse(readFileSync(join(dir, entry.file), 'utf8'));
    const single = await trainCommand(parseArgs(['train', ...SMALL, '--wd', '1', '--seed', '2', '--quiet', '--out', join(dir, 'single.json')], new Set(['quiet'])));
    expect(Object.keys(run).sort()).toEqual(Object.keys(single).sort());
    expect(Object.keys(run.history[0]).sort()).toEqual(Object.keys(single.history[0]).sort());
    expect(run.history.map((h: { epoch: number }) => h.epoch)).toEqual(single.history.map((h) => h.epoch));
    for (const [k, h] of run.history.entries()) {
      for (const col of ['trainLoss', 'testLoss', 'testAcc', 'sumSquaredWeights', 'giniWE']) {
        expect(Math.abs(h[col] - (single.history[k] as unknown as Record<string, number>)[col])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(h[col])));
      }
    }
    // --record: the run file opens, with the run's history and its resume state.
    const rec = decodeRun(gunzipSync(readFileSync(join(dir, entry.record))));
    expect(rec.history.length).toBe(run.history.length);
    expect(rec.resume?.t).toBe(20);
    // merge packs every run.
    const packed = mergeCommand(parseArgs(['merge', dir, '--out', join(dir, 'packed.json'), '--quiet'], BOOLEAN));
    expect(packed.runs.map((r) => r.result.history.length)).toEqual(Array(6).fill(3));
  }, 120_000);

  it('--llc: each run file carries the LLC of its final weights with its settings; --llc-* alone is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-sweep-'));
    const llcFlags = ['--llc', '--llc-chains', '2', '--llc-draws', '10', '--llc-batch', '8', '--llc-eps', '1e-4'];
    const { args, vary } = sweepArgs([...SMALL, '--vary', 'wd=0,1', '--out', dir, '--quiet', ...llcFlags]);
    const index = await sweepCommand(args, vary);
    const estimates = index.runs.map((entry) => JSON.parse(readFileSync(join(dir, entry.file), 'utf8')).llc);
    expect(estimates).toHaveLength(2);
    for (const e of estimates) {
      expect(Number.isFinite(e.llc)).toBe(true);
      expect(e.settings).toMatchObject({ chains: 2, draws: 10, batch: 8, eps: 1e-4 });
      expect(e.traces).toHaveLength(2);
    }
    // Two different models (λ = 0 and 1 end apart): their chains' losses differ.
    expect(estimates[0].initLoss).not.toBe(estimates[1].initLoss);
    const bad = sweepArgs([...SMALL, '--vary', 'wd=0,1', '--out', mkdtempSync(join(tmpdir(), 'grokscope-sweep-')), '--quiet', '--llc-chains', '2']);
    await expect(sweepCommand(bad.args, bad.vary)).rejects.toThrow(/--llc-chains needs --llc/);
  }, 120_000);

  it('refuses bad sweeps with the bad value named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-sweep-'));
    const bad = async (v: string[]) => {
      const { args, vary } = sweepArgs([...SMALL, ...v, '--out', dir, '--quiet']);
      return sweepCommand(args, vary);
    };
    await expect(bad(['--vary', 'wd=0,-1'])).rejects.toThrow(/wd: weight decay λ must be in \[0, 100\], got -1/);
    await expect(bad(['--vary', 'zz=1'])).rejects.toThrow(/unknown key "zz"/);
    await expect(bad(['--vary', 'heads=3'])).rejects.toThrow(/divisible/);
    await expect(bad([])).rejects.toThrow(/--vary/);
  });

  it('three shards in three processes write what one process writes', async () => {
    const whole = mkdtempSync(join(tmpdir(), 'grokscope-whole-'));
    const sharded = mkdtempSync(join(tmpdir(), 'grokscope-shards-'));
    const argv = ['sweep', ...SMALL, ...VARY, '--quiet'];
    const results = await Promise.all([
      cli([...argv, '--out', whole]),
      cli([...argv, '--out', sharded, '--shard', '0/3']),
      cli([...argv, '--out', sharded], { JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '3' }),
      cli([...argv, '--out', sharded], { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' }),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(readFileSync(join(whole, 'sweep.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(sharded, 'sweep.json'), 'utf8'));
    expect(b.runs).toEqual(a.runs);
    expect(readdirSync(join(sharded, 'runs')).sort()).toEqual(readdirSync(join(whole, 'runs')).sort());
    for (const r of a.runs) {
      const x = JSON.parse(readFileSync(join(whole, r.file), 'utf8'));
      const y = JSON.parse(readFileSync(join(sharded, r.file), 'utf8'));
      // Batched with other models or not, a run's numbers are the same.
      expect(strip(y)).toBe(strip(x));
    }
  }, 240_000);
});
