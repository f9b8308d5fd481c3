/**
 * `precision FILE` (#25): float16 snapshots against the float32 ones they round, measured by the
 * CLI's own analysis. A small run is recorded in float32 and in float16; the first is compared,
 * the second refused (it has no float32 weights to compare with). `split --story-step`: only the
 * snapshots the views need go into the pieces.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureDifference, precisionRows } from '../../src/cli/precision.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokscope-precision-'));
const small = (epochs: number) => ['--p', '23', '--dm', '32', '--heads', '2', '--mlp', '64', '--epochs', String(epochs), '--every', '50', '--quiet'];

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
}

const f32 = join(dir, 'small.grokrun.gz');

describe('precision', () => {
  beforeAll(() => {
    const trained = cli(['train', ...small(300), '--out', join(dir, 'small.json'), '--record', f32]);
    expect(trained.status, trained.stderr).toBe(0);
  }, 600_000);

  it('differences: relative for losses, absolute below a scale of 1 and relative above it', () => {
    expect(measureDifference('trainLoss', 1.001e-7, 1e-7)).toBeCloseTo(1e-3, 6);
    expect(measureDifference('giniWE', 0.5005, 0.5)).toBeCloseTo(5e-4, 9);
    expect(measureDifference('normsWE', [101, 2], [100, 2])).toBeCloseTo(1 / 100, 9);
    expect(measureDifference('excludedLossPerFreq', { 3: 2e-6, 5: 1 }, { 3: 1e-6, 5: 1 })).toBeCloseTo(1, 9);
    expect(measureDifference('testAcc', 0.75, 0.75)).toBe(0);
  });

  it('measures every snapshot of a float32 run twice and says how far float16 moves it', () => {
    const r = cli(['precision', f32]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^float16 against float32, 7 snapshots/);
    for (const name of ['trainLoss', 'testAcc', 'restrictedLoss', 'excludedLoss', 'giniWL', 'cosCoefficients', 'neuronFVE', 'gradientSymmetricity']) {
      expect(lines.some((l) => l.trim().startsWith(name))).toBe(true);
    }
    expect(r.stdout).toMatch(/neuronFreq\s+at most \d+ of 64 neurons change frequency/);
    expect(r.stdout).toMatch(/keyFreqs\s+(the same at every snapshot|differ at epochs)/);
  }, 600_000);

  it('the rows: finite, small, the float32 K kept; a float16 recording is refused', async () => {
    const rows = await precisionRows(f32, 'wasm');
    expect(rows.map((r) => r.epoch)).toEqual([0, 50, 100, 150, 200, 250, 300]);
    for (const row of rows) {
      for (const [name, d] of Object.entries(row.differences)) {
        expect(Number.isFinite(d), name).toBe(true);
        expect(d, `${name} at epoch ${row.epoch}`).toBeGreaterThanOrEqual(0);
        // float16 keeps 11 significant bits (~5e-4 relative): nothing moves by 5%.
        expect(d, `${name} at epoch ${row.epoch}`).toBeLessThan(0.05);
      }
      expect(row.neurons).toBe(64);
    }
    // Rounding does change the weights, so some measure moves at some snapshot.
    expect(rows.some((r) => Object.values(r.differences).some((d) => d > 0))).toBe(true);

    const f16 = join(dir, 'small-f16.grokrun.gz');
    const trained = cli(['train', ...small(100), '--out', join(dir, 'small16.json'), '--record', f16, '--record-dtype', 'f16']);
    expect(trained.status, trained.stderr).toBe(0);
    const refused = cli(['precision', f16]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/stores its snapshots in float16 already/);
  }, 600_000);

  it('split --story-step keeps the first, the last and the snapshots whose views moved; a bad step is refused', () => {
    const out = join(dir, 'pieces');
    const r = cli(['split', f32, '--out', out, '--story-step', '0.05']);
    expect(r.status, r.stderr).toBe(0);
    const said = /--story-step 0.05: (\d+) of the 7 snapshots kept \(epochs ([\d, ]+)\)/.exec(r.stdout);
    expect(said, r.stdout).not.toBeNull();
    const kept = said![2].split(', ').map(Number);
    expect(kept.length).toBe(Number(said![1]));
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(300);
    const manifest = JSON.parse(readFileSync(join(out, 'recording.json'), 'utf8')) as { snapshots: { epoch: number }[] };
    // The last snapshot rides in the head; the rest are pieces.
    expect(manifest.snapshots.map((s) => s.epoch)).toEqual(kept.slice(0, -1));
    for (const bad of ['0', '2', 'x']) {
      const refused = cli(['split', f32, '--out', out, '--story-step', bad]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/--story-step must be a number in \(0, 1\]/);
    }
  }, 300_000);
});
