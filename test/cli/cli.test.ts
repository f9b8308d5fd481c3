import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyze.ts';
import { UsageError, parseArgs } from '../../src/cli/node/args.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { decodeQuery } from '../../src/config/url.ts';
import { decodeCheckpoint } from '../../src/files/safetensors/checkpoint.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokscope-cli-'));
const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--lr', '0.01'];
const BOOLEAN = new Set(['quiet']);

describe('command line', () => {
  it('parses flags as the URL keys', () => {
    const args = parseArgs(['train', '--p', '53', '--wd=5', '--preset', 'p53', '--every', '10', '--quiet'], BOOLEAN);
    expect(args.command).toBe('train');
    expect(args.decoded.config).toEqual(decodeQuery('preset=p53&p=53&wd=5').config);
    expect(Object.fromEntries(args.flags)).toEqual({ every: '10', quiet: 'true' });
    expect(() => parseArgs(['train', '--p'], BOOLEAN)).toThrow(/--p needs a value/);
  });

  it('reads --orthograd as og=1 (a switch; --orthograd=0 turns it off)', () => {
    expect(parseArgs(['train', '--orthograd', '--wd', '0'], BOOLEAN).decoded.config.orthoGrad).toBe(1);
    expect(parseArgs(['train', '--orthograd', '--wd', '0'], BOOLEAN).decoded.config.weightDecay).toBe(0);
    expect(parseArgs(['train', '--orthograd=0'], BOOLEAN).decoded.config.orthoGrad).toBe(0);
    expect(parseArgs(['train', '--og', '2'], BOOLEAN).decoded.issues[0].message).toMatch(/\[0, 1\]/);
  });

  it('trains headless and writes {config, history} with epoch 0 first', async () => {
    const out = join(dir, 'run.json');
    const save = join(dir, 'w.safetensors');
    await trainCommand(parseArgs(['train', ...SMALL, '--epochs', '30', '--every', '10', '--out', out, '--save', save, '--quiet'], BOOLEAN));
    const run = JSON.parse(readFileSync(out, 'utf8'));
    expect(run.config).toMatchObject({ p: 7, dModel: 8, epochs: 30, lr: 0.01 });
    expect(run.history.map((h: { epoch: number }) => h.epoch)).toEqual([0, 10, 20, 30]);
    for (const h of run.history) {
      for (const k of ['trainLoss', 'testLoss', 'trainAcc', 'testAcc', 'restrictedLoss', 'excludedLoss', 'giniWL']) expect(typeof h[k], k).toBe('number');
    }
    expect(run.history[3].trainLoss).toBeLessThan(run.history[0].trainLoss);
    expect(run.backend.name).toBe('wasm');
    const saved = decodeCheckpoint(new Uint8Array(readFileSync(save)));
    expect(saved.epoch).toBe(30);
    expect(saved.config.p).toBe(7);
  });

  it('continues from a saved checkpoint (--init): the first checkpoint is the saved model', async () => {
    const save = join(dir, 'w.safetensors');
    const out = join(dir, 'cont.json');
    await trainCommand(parseArgs(['train', '--init', save, '--epochs', '10', '--every', '5', '--out', out, '--quiet'], BOOLEAN));
    const run = JSON.parse(readFileSync(out, 'utf8'));
    const before = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).history[3];
    expect(run.history[0].trainLoss).toBeCloseTo(before.trainLoss, 5);
    expect(run.history[0].testAcc).toBe(before.testAcc);
    await expect(trainCommand(parseArgs(['train', '--init', save, '--p', '11', '--epochs', '2', '--quiet'], BOOLEAN))).rejects.toThrow(/does not fit this configuration|has \d+ values, expected/);
  });

  it('analyzes a checkpoint: the measures as one object, K by the rule or by flag', async () => {
    const save = join(dir, 'w.safetensors');
    const byRule = await analyzeCommand(parseArgs(['analyze', save], BOOLEAN));
    for (const k of ['trainLoss', 'testLoss', 'trainAcc', 'testAcc', 'keyFreqs', 'restrictedLoss', 'restrictedAcc', 'excludedLoss', 'giniWE', 'giniWL', 'sumSquaredWeights', 'normsWE', 'normsWL', 'logitFVE', 'neuronsWellExplained']) {
      expect(byRule, k).toHaveProperty(k);
    }
    expect(byRule.split).toMatch(/train_indices/);
    expect((byRule.normsWE as number[]).length).toBe(4);
    const pinned = await analyzeCommand(parseArgs(['analyze', save, '--key-freqs', '2,3'], BOOLEAN));
    expect(pinned.keyFreqs).toEqual([2, 3]);
    expect(pinned.trainLoss).toBe(byRule.trainLoss);
    // Zhong et al.'s clock/pizza measures, with their reference models beside them.
    for (const k of ['distanceIrrelevance', 'gradientSymmetricity'] as const) {
      const v = byRule[k] as number;
      expect(Number.isFinite(v), k).toBe(true);
      expect(v, k).toBeGreaterThanOrEqual(k === 'distanceIrrelevance' ? 0 : -1);
      expect(v, k).toBeLessThanOrEqual(1.0001);
    }
    expect(byRule.clockPizzaReference).toMatchObject({ clock: { gradientSymmetricity: 0.334 }, pizza: { distanceIrrelevance: 0.172 } });
  });

  it('analyze --llc: the LLC with its settings, chains and traces; the other measures unchanged; bad settings named', async () => {
    const save = join(dir, 'w.safetensors');
    const LLC_BOOLEAN = new Set([...BOOLEAN, 'llc']);
    const plain = await analyzeCommand(parseArgs(['analyze', save], LLC_BOOLEAN));
    const args = ['analyze', save, '--llc', '--llc-chains', '2', '--llc-draws', '30', '--llc-batch', '16', '--llc-eps', '1e-4', '--llc-seed', '3'];
    const r = (await analyzeCommand(parseArgs(args, LLC_BOOLEAN))) as { llc: { llc: number; settings: Record<string, number>; defaults: Record<string, number>; traces: number[][]; initLoss: number; error: number; settled: boolean; settledPerChain: boolean[]; settleRule: string }; trainLoss: number };
    expect(r.llc.settings).toMatchObject({ chains: 2, draws: 30, batch: 16, eps: 1e-4, gamma: r.llc.defaults.gamma, seed: 3 });
    expect(r.llc.settledPerChain).toHaveLength(2);
    expect(typeof r.llc.settled).toBe('boolean');
    expect(r.llc.settleRule).toMatch(/third to the last quarter/);
    expect(r.llc.settings.nbeta).toBeCloseTo(16 / Math.log(16), 9);
    expect(r.llc.traces.map((t) => t.length)).toEqual([30, 30]);
    expect(Number.isFinite(r.llc.llc) && Number.isFinite(r.llc.error)).toBe(true);
    expect(r.llc.initLoss).toBeCloseTo(r.trainLoss, 4);
    expect(r.trainLoss).toBe(plain.trainLoss);
    const again = (await analyzeCommand(parseArgs(args, LLC_BOOLEAN))) as typeof r;
    expect(again.llc.traces).toEqual(r.llc.traces);
    await expect(analyzeCommand(parseArgs(['analyze', save, '--llc-eps', '1e-3'], LLC_BOOLEAN))).rejects.toThrow(/--llc-eps needs --llc/);
    await expect(analyzeCommand(parseArgs(['analyze', save, '--llc', '--llc-chains', '0'], LLC_BOOLEAN))).rejects.toThrow(/--llc-chains must be a whole number ≥ 1/);
  }, 60_000);

  it('refuses bad input with a message naming it', async () => {
    await expect(trainCommand(parseArgs(['train', '--p', '12', '--quiet'], BOOLEAN))).rejects.toThrow(/--p: P \(modulus\) 12 is not prime/);
    await expect(trainCommand(parseArgs(['train', '--outt', 'x', '--quiet'], BOOLEAN))).rejects.toThrow(/unknown flag --outt/);
    await expect(trainCommand(parseArgs(['train', '--every', '0', ...SMALL, '--quiet'], BOOLEAN))).rejects.toThrow(/--every must be a whole number/);
    await expect(analyzeCommand(parseArgs(['analyze', join(dir, 'missing.safetensors')], BOOLEAN))).rejects.toThrow(/cannot read/);
    await expect(analyzeCommand(parseArgs(['analyze', join(dir, 'run.json')], BOOLEAN))).rejects.toThrow(/header|truncated|JSON/);
    await expect(analyzeCommand(parseArgs(['analyze', join(dir, 'w.safetensors'), '--key-freqs', 'x'], BOOLEAN))).rejects.toBeInstanceOf(UsageError);
  });
});
