import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyze.ts';
import { UsageError, parseArgs } from '../../src/cli/node/args.ts';
import { encodeCheckpoint } from '../../src/files/safetensors/checkpoint.ts';
import { initWeights, paramSpecs } from '../../src/model/transformer/params.ts';
import { encodeRun } from '../../src/files/run-file.ts';
import { tinyConfig } from '../helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokscope-evidence-'));
const config = tinyConfig({ p: 11, dModel: 12, nHeads: 3, dMlp: 20 });
const ckpt = join(dir, 'c.safetensors');
writeFileSync(ckpt, encodeCheckpoint({ config, weights: initWeights(config), epoch: 7 }));

describe('analyze: §4 evidence, --ablate, --pair, run files', () => {
  it('prints the §7 fields beside the others', async () => {
    const out = await analyzeCommand(parseArgs(['analyze', ckpt, '--key-freqs', '2,3']));
    expect((out.attentionHeads as unknown[]).length).toBe(3);
    for (const h of out.attentionHeads as Record<string, number>[]) for (const k of ['freq', 'alpha', 'beta', 'fve']) expect(Number.isFinite(h[k]), k).toBe(true);
    expect((out.ovNorms as number[][]).map((n) => n.length)).toEqual([6, 6, 6]);
    expect(Object.keys(out.directionFVE as object).sort()).toEqual(['2', '3']);
    for (const k of ['lossOnlyKeyFreqs', 'lossKeyFreqsRemoved', 'lossNeuronsReplaced', 'testLossNeuronsReplaced', 'lossSkipAblated', 'accSkipAblated']) {
      expect(Number.isFinite(out[k]), k).toBe(true);
    }
    expect(out).not.toHaveProperty('intervention');
  });

  it('--ablate prints before → after; --pair the input; bad syntax is a usage error', async () => {
    const out = await analyzeCommand(parseArgs(['analyze', ckpt, '--ablate', 'head:1:mean,we:2', '--pair', '3,4']));
    const iv = out.intervention as { ablate: string; before: Record<string, number>; after: Record<string, number> };
    expect(iv.ablate).toBe('head:1:mean,we:2');
    expect(iv.after.trainLoss).not.toBeCloseTo(iv.before.trainLoss, 6);
    expect(iv.before.trainLoss).toBeCloseTo(out.trainLoss as number, 5);
    const input = out.input as { a: number; b: number; label: number; logits: number[]; after: { logits: number[] } };
    expect([input.a, input.b, input.label]).toEqual([3, 4, 7]);
    expect(input.logits.length).toBe(12);
    expect(input.after.logits).not.toEqual(input.logits);
    await expect(analyzeCommand(parseArgs(['analyze', ckpt, '--ablate', 'head:9']))).rejects.toThrow(UsageError);
    await expect(analyzeCommand(parseArgs(['analyze', ckpt, '--pair', '11,0']))).rejects.toThrow(/--pair/);
  });

  it('reads a run file (gzip) at the snapshot nearest --epoch', async () => {
    const n = paramSpecs(config).reduce((s, x) => s + x.shape.reduce((a, b) => a * b, 1), 0);
    const flat = (seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.3);
    const file = join(dir, 'r.grokrun.gz');
    const bytes = encodeRun({
      name: 'test run',
      config,
      trainIndices: Int32Array.from({ length: 60 }, (_, i) => i * 2),
      keyFreqs: null,
      history: [],
      snapshots: [
        { epoch: 0, weights: flat(0) },
        { epoch: 100, weights: flat(1) },
      ],
      resume: null,
      backend: null,
      createdAt: '2026-01-01T00:00:00Z',
    });
    writeFileSync(file, gzipSync(bytes));
    const last = await analyzeCommand(parseArgs(['analyze', file]));
    expect(last.epoch).toBe(100);
    const early = await analyzeCommand(parseArgs(['analyze', file, '--epoch', '20']));
    expect(early.epoch).toBe(0);
    expect(early.trainLoss).not.toBeCloseTo(last.trainLoss as number, 4);
  });
});
