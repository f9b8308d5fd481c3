import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError, parseArgs } from '../../src/cli/node/args.ts';
import { benchCommand, formatTable, type BenchLine } from '../../src/cli/bench/bench.ts';
import { epochFlops } from '../../src/model/flops.ts';
import type { BatchedBenchResult } from '../../src/run/protocol.ts';

const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5'];
const BOOLEAN = new Set(['json', 'browser', 'no-general', 'no-analysis']);

describe('npm run bench', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints one JSON line per backend with the figures the issue asks for', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (written.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const args = parseArgs(['bench', ...SMALL, '--backends', 'wasm,cpu', '--blocks', '5', '--block-ms', '20', '--json'], BOOLEAN);
    const lines = await benchCommand(args);
    const printed = written.join('').trim().split('\n').map((l) => JSON.parse(l) as BenchLine);
    expect(printed.map((l) => l.backend)).toEqual(['wasm', 'cpu']);
    const flops = epochFlops(args.decoded.config, 'fast').train / 1e9;
    for (const l of printed) {
      expect(l.path).toBe('fast');
      expect(l.msPerEpoch).toBeGreaterThan(0);
      expect(l.blockMsPerEpoch).toHaveLength(5);
      // The median of the blocks.
      expect(l.msPerEpoch).toBe([...l.blockMsPerEpoch].sort((a, b) => a - b)[2]);
      expect(l.epochsTimed).toBeGreaterThanOrEqual(5);
      expect(l.epochsTimed % 5).toBe(0);
      expect(l.gflopPerEpoch).toBeCloseTo(flops, 12);
      expect(l.gflops).toBeCloseTo(l.gflopPerEpoch / (l.msPerEpoch / 1000), 9);
      expect(l.analysisMs).toBeGreaterThan(0);
      expect(l.numTensorsDelta).toBe(0);
      expect(l.general).not.toBeNull();
      expect(l.fastSpeedup).toBeCloseTo(l.general!.msPerEpoch / l.msPerEpoch, 12);
      // Work counted: whole kernels on each path, and no dispatch count off WebGPU.
      expect(Number.isInteger(l.kernelsPerEpoch) && l.kernelsPerEpoch > 0).toBe(true);
      expect(Number.isInteger(l.general!.kernelsPerEpoch) && l.general!.kernelsPerEpoch > 0).toBe(true);
      expect(l.dispatchesPerEpoch).toBeNull();
    }
    // The same update runs the same kernels on every backend.
    expect(printed[0].kernelsPerEpoch).toBe(printed[1].kernelsPerEpoch);
    expect(lines).toEqual(printed);
    expect(formatTable(lines)).toMatch(/fast path \d+\.\d\d× faster/);
  });

  it('times 2-block models on the general path only', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const [line] = await benchCommand(parseArgs(['bench', ...SMALL, '--layers', '2', '--blocks', '5', '--block-ms', '10', '--no-analysis'], BOOLEAN));
    expect(line.path).toBe('general');
    expect(line.general).toBeNull();
    expect(Number.isNaN(line.analysisMs)).toBe(true);
  });

  it('times only the analysis with --analysis-only (JSON has null for what was not timed)', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (written.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const [line] = await benchCommand(parseArgs(['bench', ...SMALL, '--analysis-only', '--json'], new Set([...BOOLEAN, 'analysis-only'])));
    expect(line.analysisMs).toBeGreaterThan(0);
    expect(line.epochsTimed).toBe(0);
    expect(Number.isNaN(line.msPerEpoch)).toBe(true);
    expect(line.general).toBeNull();
    expect(line.numTensorsDelta).toBe(0);
    expect(JSON.parse(written.join(''))).toMatchObject({ msPerEpoch: null, analysisMs: line.analysisMs });
  });

  it('--models N times N seeds batched against one after another, with the ceiling the products leave', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (written.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await benchCommand(parseArgs(['bench', ...SMALL, '--models', '3', '--backends', 'wasm,cpu', '--blocks', '3', '--block-ms', '20', '--json'], BOOLEAN));
    const printed = written.join('').trim().split('\n').map((l) => JSON.parse(l) as BatchedBenchResult);
    expect(printed.map((r) => r.backend)).toEqual(['wasm', 'cpu']);
    for (const r of printed) {
      expect(r.models).toBe(3);
      expect(r.singleMsPerEpoch).toHaveLength(3);
      const sequential = r.singleMsPerEpoch.reduce((a, b) => a + b, 0);
      expect(r.speedup).toBeCloseTo(sequential / r.batchedMsPerEpoch, 9);
      expect(r.batchedModelEpochsPerSec).toBeCloseTo(3000 / r.batchedMsPerEpoch, 9);
      expect(r.sequentialModelEpochsPerSec).toBeCloseTo(3000 / sequential, 9);
      // The products are part of the update; the ceiling is what removing the rest would give.
      expect(r.batchedProductMs).toBeGreaterThan(0);
      expect(r.ceiling).toBeCloseTo(sequential / r.batchedProductMs!, 9);
      expect(r.dispatchesBatched).toBeNull();
      expect(r.numTensorsDelta).toBe(0);
    }
    await expect(benchCommand(parseArgs(['bench', ...SMALL, '--models', '2', '--backends', 'webgpu'], BOOLEAN))).rejects.toThrow(/--browser/);
  });

  it('refuses unknown backends and flags', async () => {
    await expect(benchCommand(parseArgs(['bench', '--backends', 'tpu'], BOOLEAN))).rejects.toThrow(UsageError);
    await expect(benchCommand(parseArgs(['bench', '--backends', 'webgpu'], BOOLEAN))).rejects.toThrow(/--browser/);
    await expect(benchCommand(parseArgs(['bench', '--epochz', '3'], BOOLEAN))).rejects.toThrow(/unknown flag --epochz/);
  });
});
