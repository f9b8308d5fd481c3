/**
 * The authors' two sweep files (files/authors-sweeps.ts) open as sweeps, in the page's reader
 * and through `inspect`. The files are forged here with the structure of the real ones (checked
 * against saved_runs/ of the authors' repository: the fraction sweep is a list [10 Python floats,
 * 20 lists of Python floats]; the width scan a dict {'losses': 16 lists of Python floats,
 * 'd_models': 8 Python ints}, keys in that order; plain pickled floats, no tensors), smaller.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { parseArgs } from '../../src/cli/node/args.ts';
import { readImportFile } from '../../src/files/import-file.ts';
import { MAX_SWEEP_ROWS } from '../../src/files/authors-sweeps.ts';
import { authorsFracSweep as fracSweep, authorsWidthScan as widthScan, PickleWriter, torchArchive } from '../files/torch-forge.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokscope-torch-sweeps-'));
const inspect = (path: string) => inspectCommand(parseArgs(['inspect', path], new Set()));

describe("the authors' sweep files", () => {
  it('the training-fraction sweep: one run per fraction, train and test interleaved, a long curve thinned to its last epoch', async () => {
    const long = 3 * MAX_SWEEP_ROWS + 7;
    const f = await readImportFile(fracSweep([0.9, 0.5, 0.3], [50, 80, long]), { name: 'mod_addition_frac_train_sweep.pth' });
    if (f.kind !== 'sweep') throw new Error(`read as ${f.kind}`);
    expect(f.sweep.sweep).toBe('frac:0.9,0.5,0.3');
    expect(f.sweep.base.p).toBe(113);
    expect(f.sweep.runs.map((r) => r.index)).toEqual([0, 1, 2]);
    const [a, , c] = f.sweep.runs.map((r) => r.history);
    expect(a.map((r) => r.epoch)).toEqual(Array.from({ length: 50 }, (_, e) => e));
    expect(a.at(-1)!.trainLoss).toBeCloseTo(1e-2, 12);
    expect(a.at(-1)!.testLoss).toBeCloseTo(1e-1, 12);
    expect(Number.isNaN(a[0].testAcc)).toBe(true);
    expect(c.length).toBeLessThanOrEqual(MAX_SWEEP_ROWS + 1);
    expect(c.at(-1)!.epoch).toBe(long - 1);
    expect(c.at(-1)!.trainLoss).toBeCloseTo(1e-4, 12);
    expect(f.sweep.note).toMatch(/training-fraction sweep/);
  });

  it('the width scan without weight decay: one run per d_model, wd = 0', async () => {
    const f = await readImportFile(widthScan([8, 16, 32], 30), { name: 'no_wd_width_scan.pth' });
    if (f.kind !== 'sweep') throw new Error(`read as ${f.kind}`);
    expect(f.sweep.sweep).toBe('dm:8,16,32');
    expect(f.sweep.base.weightDecay).toBe(0);
    expect(f.sweep.runs[2].history.at(-1)).toMatchObject({ epoch: 29 });
    expect(f.sweep.runs[2].history.at(-1)!.testLoss).toBeCloseTo(1e-3, 12);
  });

  it('inspect prints them as sweeps: each run, its epochs and final losses', async () => {
    const frac = join(dir, 'frac.pth');
    writeFileSync(frac, fracSweep([0.9, 0.5], [40, 60]));
    const r = await inspect(frac);
    expect(r.code).toBe(0);
    expect(r.lines).toContain('sweep: frac:0.9,0.5 (2 runs)');
    expect(r.lines).toContain('  frac=0.5: epochs 0 … 59 (60 rows), final train loss 0.001, test loss 0.01');
    const width = join(dir, 'width.pth');
    writeFileSync(width, widthScan([8, 16], 20));
    const w = await inspect(width);
    expect(w.code).toBe(0);
    expect(w.lines).toContain('  dm=8: epochs 0 … 19 (20 rows), final train loss 0.01, test loss 0.1');
    expect(w.lines.at(-1)).toMatch(/loss curves only: no weights to open/);
  });

  it('a list that is not one of them is still refused, as before', async () => {
    const odd = join(dir, 'odd.pth');
    const w = new PickleWriter().proto();
    w.list([() => w.floats([0.5, 0.3]), () => w.list([() => w.floats([1, 2])])]);
    writeFileSync(odd, torchArchive(w.stop()));
    const r = await inspect(odd);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual(['refused: odd.pth holds a list at the top, not a model']);
  });
});
