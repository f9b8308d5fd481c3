import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRun, encodeRun, type RunData } from '../../src/files/run-file.ts';
import { checkManifest, crc32, joinRecording, nextPiece, readPiece, splitRecording, storySnapshotEpochs } from '../../src/files/recording.ts';

// The shipped control recording (float16 snapshots), as the build splits it.
const whole = gunzipSync(readFileSync('public/runs/no-wd.grokrun.gz'));
const original = decodeRun(new Uint8Array(whole));

let once: ReturnType<typeof split> | null = null;
// Split once for every test (7 MB of float16: slow on a loaded machine).
const pieces = (run: RunData) => (once ??= split(run));

function split(run: RunData) {
  const split = splitRecording(run);
  const head = decodeRun(split.head);
  const arrived = split.manifest.snapshots.map((p) => readPiece(split.manifest, p, split.pieces.subarray(p.offset, p.offset + p.length)));
  return { split, head, arrived };
}

describe('a recording in pieces', () => {
  it('joins back into the whole file: the same run, the same bytes once written', { timeout: 180_000 }, () => {
    const { split, head, arrived } = pieces(original);
    expect(split.manifest.snapshots.length).toBe(original.snapshots.length - 1);
    // The head alone is a run file with the curves and the latest weights, well under 1 MB.
    expect(head.history).toEqual(original.history);
    expect(head.snapshots.map((s) => s.epoch)).toEqual([original.snapshots.at(-1)!.epoch]);
    expect(split.head.length).toBeLessThan(1024 * 1024);
    // Pieces in any order (nearest the scrubber first) give the same run.
    const joined = joinRecording(head, [...arrived].reverse());
    expect(joined.snapshots).toEqual(original.snapshots);
    expect(Buffer.from(encodeRun(joined, { snapshotDtype: 'F16' })).equals(Buffer.from(encodeRun(original, { snapshotDtype: 'F16' })))).toBe(true);
    // Export writes float32: the same run once read back.
    const exported = decodeRun(encodeRun(joined));
    expect(exported.snapshots).toEqual(original.snapshots);
    expect(exported.history).toEqual(original.history);
  });

  it('names a damaged or short piece, and the run opens with the rest', () => {
    const { split, head, arrived } = pieces(original);
    const p = split.manifest.snapshots[3];
    const bytes = split.pieces.slice(p.offset, p.offset + p.length);
    bytes[100] ^= 0x40;
    expect(() => readPiece(split.manifest, p, bytes)).toThrow(new RegExp(`epoch ${p.epoch} is damaged`));
    expect(() => readPiece(split.manifest, p, bytes.subarray(0, 1000))).toThrow(/arrived with 1000 bytes/);
    const partial = joinRecording(head, arrived.filter((s) => s.epoch !== p.epoch));
    const reopened = decodeRun(encodeRun(partial));
    expect(reopened.snapshots.length).toBe(original.snapshots.length - 1);
    expect(reopened.snapshots.some((s) => s.epoch === p.epoch)).toBe(false);
  });

  it('refuses a bad manifest before fetching by it', () => {
    const { manifest } = pieces(original).split;
    const json = JSON.parse(JSON.stringify(manifest));
    expect(checkManifest(json)).toEqual(manifest);
    expect(() => checkManifest({ ...json, format: 'x' })).toThrow(/format "x"/);
    expect(() => checkManifest({ ...json, head: '../../etc/passwd' })).toThrow(/head file name/);
    const bad = { ...json, snapshots: json.snapshots.map((s: { length: number }, i: number) => (i === 2 ? { ...s, length: 5 } : s)) };
    expect(() => checkManifest(bad)).toThrow(/snapshot 2 is invalid/);
    expect(() => checkManifest('nope')).toThrow(/not an object/);
  });

  it('fetches the missing piece nearest the epoch on show first', () => {
    const { manifest } = pieces(original).split;
    const epochs = manifest.snapshots.map((s) => s.epoch);
    const far = epochs.at(-1)!;
    expect(nextPiece(manifest.snapshots, new Set(), far)!.epoch).toBe(far);
    expect(nextPiece(manifest.snapshots, new Set([far]), far)!.epoch).toBe(epochs.at(-2));
    expect(nextPiece(manifest.snapshots, new Set(epochs), 0)).toBeNull();
  });

  it("keeps only the snapshots the views need: one where a view's measure moved by the step", () => {
    const epochs = original.snapshots.map((s) => s.epoch);
    const loose = storySnapshotEpochs(original, 0.05);
    const tight = storySnapshotEpochs(original, 0.005);
    // The first and the last always; fewer for a larger step; every kept one a snapshot of the run.
    for (const kept of [loose, tight]) {
      expect(kept[0]).toBe(epochs[0]);
      expect(kept.at(-1)).toBe(epochs.at(-1));
      for (const e of kept) expect(epochs).toContain(e);
    }
    expect(loose.length).toBeLessThanOrEqual(tight.length);
    expect(storySnapshotEpochs(original, 1)).toEqual([epochs[0], ...(epochs.length > 1 ? [epochs.at(-1)] : [])]);
    // Two kept in a row differ by at least the step in some measure; a dropped one by less than
    // the step from the last kept before it (here: train accuracy alone moves).
    const flat = (epoch: number, trainAcc: number) => ({ ...original.history[0], epoch, trainAcc, testAcc: 0, giniWE: 0.1, giniWL: 0.1, normsWL: [1, 1] });
    const toy = { ...original, history: [flat(0, 0), flat(10, 0.04), flat(20, 0.08), flat(30, 0.2), flat(40, 0.21)], snapshots: [0, 10, 20, 30, 40].map((epoch) => ({ epoch, weights: new Float32Array(1) })) };
    expect(storySnapshotEpochs(toy, 0.05)).toEqual([0, 20, 30, 40]);
    expect(storySnapshotEpochs(toy, 0.1)).toEqual([0, 30, 40]);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
