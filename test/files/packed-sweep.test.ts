/**
 * Packed sweeps are told by parsing, not by spacing (issue 24): Python's json.dumps(indent=2)
 * with "format" last still reads; a run listed many times is read once and counted; a file that
 * is JSON but no sweep, or a run cut short, says so.
 */
import { describe, expect, it } from 'vitest';
import { readImportFile } from '../../src/files/import-file.ts';
import { looksLikeJson, readPackedSweep } from '../../src/files/packed-sweep.ts';

const history = [0, 10, 20].map((epoch) => ({ epoch, trainLoss: 1 / (epoch + 1), testLoss: 2, trainAcc: 0.5, testAcc: 0.1 }));
const packed = (runs: number[]) => ({ format: 'grokscope-sweep/1', sweep: 'seed:0-3', base: { p: 23, dModel: 8, nHeads: 2, dMlp: 16 }, runs: runs.map((index) => ({ index, result: { history } })) });

describe('packed sweeps', () => {
  it('read whatever their spacing or key order, gzipped or not', async () => {
    const { format, ...rest } = packed([0, 1, 2, 3]);
    const text = JSON.stringify({ ...rest, format }, null, 2);
    expect(looksLikeJson(new TextEncoder().encode(`\n  ${text}`))).toBe(true);
    const file = await readImportFile(new TextEncoder().encode(text));
    expect(file.kind).toBe('sweep');
    if (file.kind !== 'sweep') return;
    expect(file.sweep.sweep).toBe('seed:0-3');
    expect(file.sweep.runs.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(file.sweep.runs[1].history.map((h) => h.epoch)).toEqual([0, 10, 20]);
  });

  it('a run listed 750 times is read once: 4 of 4 runs, not 3000 of 4', () => {
    const p = readPackedSweep(JSON.stringify(packed(Array.from({ length: 3000 }, (_, i) => i % 4))));
    expect(p.runs).toHaveLength(4);
    expect(p.duplicates).toBe(2996);
    expect(p.points).toBe(4);
  });

  it('say what is wrong: JSON that is no sweep, a run out of order, a safetensors length that starts with "{"', () => {
    expect(() => readPackedSweep('{"format":"grokscope-run/1"}')).toThrow(/JSON but not a packed sweep.*its format is "grokscope-run\/1"/);
    expect(() => readPackedSweep('{"format":"grokscope-sweep/1", "sweep": "seed:0-3"')).toThrow(/it is not JSON/);
    const bad = packed([0]);
    bad.runs[0].result.history = [history[1], history[0]];
    expect(() => readPackedSweep(JSON.stringify(bad))).toThrow(/run 0's checkpoints are out of order at row 1 \(epoch 0\)/);
    // A header length of 123 (0x7b, '{') is followed by NUL bytes: not JSON.
    expect(looksLikeJson(Uint8Array.of(0x7b, 0, 0, 0, 0, 0, 0, 0, 0x7b))).toBe(false);
  });
});
