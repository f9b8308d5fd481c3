/**
 * The page's file reader (src/files/import-file.ts) against hostile files: edited configurations,
 * impossible moments and K, columns wider than the model, gzip bombs, checkpoints with long
 * metadata or compressed, and a property-based suite of structured mutations of real files.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { encodeCheckpoint } from '../../src/files/safetensors/checkpoint.ts';
import { numParams, unflattenWeights } from '../../src/model/transformer/params.ts';
import { SafetensorsError } from '../../src/files/safetensors/safetensors.ts';
import { Trainer } from '../../src/model/trainer.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import { readImportFile } from '../../src/files/import-file.ts';
import { inflate } from '../../src/files/inflate.ts';
import { recordedLoss } from '../../src/run/integrity.ts';
import { checkRecordedLoss } from '../../src/run/recompute-loss.ts';
import { encodeRun, type RunData } from '../../src/files/run-file.ts';
import { checkpointFixture, useBackend } from '../helpers.ts';
import { rewriteHeader } from './safetensors-edit.ts';

const config: TrainConfig = { ...DEFAULT_CONFIG, p: 23, dModel: 32, nHeads: 4, dMlp: 64, frac: 0.5, lr: 0.01, weightDecay: 1, epochs: 300 };
let run: RunData;
let file: Uint8Array;

const editConfig = (changes: Partial<TrainConfig>) =>
  rewriteHeader(file, (h) => {
    h.__metadata__.grokscope_config = JSON.stringify({ ...JSON.parse(h.__metadata__.grokscope_config), ...changes });
  });

async function refusal(bytes: Uint8Array): Promise<string> {
  try {
    const f = await readImportFile(bytes, {});
    if (f.kind !== 'run') return 'accepted as a checkpoint';
    const { problem } = await checkRecordedLoss(f.run.config, f.run.trainIndices, recordedLoss(f.run));
    return problem ?? 'accepted';
  } catch (err) {
    expect(err).toBeInstanceOf(SafetensorsError);
    return (err as Error).message;
  }
}

beforeAll(async () => {
  await useBackend('wasm');
  // A real run, trained here: 300 epochs of a small model (train loss ≈ 0.003), checkpoints every 100.
  const trainer = new Trainer(config);
  const history: Checkpoint[] = [];
  const snapshots: RunData['snapshots'] = [];
  for (let e = 0; e <= 300; e++) {
    if (e % 100 === 0) {
      const m = await trainer.evaluateAsync();
      history.push(checkpointFixture(e, { ...m, normsWE: [], normsWL: [], cosCoefficients: [], excludedLossPerFreq: [] }));
      snapshots.push({ epoch: e, weights: (await trainer.readState()).weights });
    }
    if (e < 300) trainer.trainStep();
  }
  const resume = await trainer.readState();
  run = { name: 'fixture', config, trainIndices: trainer.dataset.train, keyFreqs: { version: 1, active: [3, 7], live: [3, 7], pinned: false }, history, snapshots, resume, backend: null, createdAt: '' };
  trainer.dispose();
  file = encodeRun(run);
}, 60_000);

describe('the page reader', () => {
  it('opens a real run file and its configuration reproduces its recorded loss', async () => {
    const f = await readImportFile(file, {});
    expect(f.kind).toBe('run');
    expect(await refusal(file)).toBe('accepted');
    expect(await refusal(gzipSync(file))).toBe('accepted');
  });

  it('refuses a run whose configuration was edited (heads, task, activation, data fraction), naming it', async () => {
    // Same parameter count each time: only the integrity check can tell.
    for (const [changes, message] of [
      [{ nHeads: 2 }, /does not reproduce its own history.*2 heads/],
      [{ nHeads: 8 }, /does not reproduce its own history.*8 heads/],
      [{ act: 'gelu' }, /does not reproduce its own history.*gelu/],
      [{ task: 'sub' }, /does not reproduce its own history.*task sub/],
      [{ frac: 0.3 }, /training fraction 0.3 means 158 training pairs, but train_indices holds 264/],
    ] as [Partial<TrainConfig>, RegExp][]) {
      expect(await refusal(editConfig(changes)), JSON.stringify(changes)).toMatch(message);
    }
  });

  it('refuses impossible Adam moments and key frequencies', async () => {
    const v = run.resume!.v.slice();
    v[5] = -0.25;
    expect(await refusal(encodeRun({ ...run, resume: { ...run.resume!, v } }))).toMatch(/optimizer.v.*-0.25 at index 5.*never negative/);
    expect(await refusal(encodeRun({ ...run, keyFreqs: { version: 1, active: [3, 3, 3], live: [3], pinned: true } }))).toMatch(/K = \[3, 3, 3\].*repeated/);
    expect(await refusal(encodeRun({ ...run, keyFreqs: { version: 1, active: [12], live: [], pinned: true } }))).toMatch(/key frequency 12 is not an integer in \[1, 11\]/);
  });

  it('refuses a history column wider than the model before allocating it', async () => {
    const wide = encodeRun({ ...run, history: run.history.map((c) => ({ ...c, normsWE: new Array(1_000_000).fill(0) })) });
    expect(await refusal(wide)).toMatch(/"history.normsWE" is 1,000,000 wide; for P = 23 it has at most 12 columns/);
  });

  it('stops a gzip bomb at the limit, streaming, with the one inflater of page and CLI', async () => {
    const bomb = gzipSync(new Uint8Array(16 * 1024 * 1024));
    await expect(inflate(bomb, 4 * 1024 * 1024)).rejects.toThrow(/inflates to more than 4 MB.*not decompressed further/);
    await expect(inflate(bomb.subarray(0, bomb.length - 9), 64 * 1024 * 1024)).rejects.toThrow(/gzip-compressed but truncated or corrupt/);
    // An import looks at the first bytes: zeros are no file it reads, refused at the first chunk.
    await expect(readImportFile(bomb)).rejects.toThrow(/not a file the page reads.*neither a safetensors header.*a zip archive nor JSON; it was not decompressed further/);
  });

  it('holds a gzipped safetensors file to the size its header states', async () => {
    // A header claiming 1 GiB is refused as soon as it is read; one claiming less than follows is cut there.
    const header = (end: number) => {
      const json = new TextEncoder().encode(JSON.stringify({ x: { dtype: 'U8', shape: [end], data_offsets: [0, end] } }));
      const out = new Uint8Array(8 + json.length + 4 * 1024 * 1024);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return gzipSync(out);
    };
    await expect(readImportFile(header(1024 ** 3))).rejects.toThrow(/header says it is 1024 MB, more than the 512 MB this page reads/);
    await expect(readImportFile(header(1024))).rejects.toThrow(/inflates to more than the [\d,]+ bytes its header says it holds/);
  });

  it('tells checkpoints from runs by their whole header: long metadata and gzip do not matter', async () => {
    const weights = unflattenWeights(config, run.resume!.weights);
    const ckpt = encodeCheckpoint({ config, weights, epoch: 300 });
    const long = rewriteHeader(ckpt, (h) => {
      h.__metadata__.notes = 'x'.repeat(10_000);
    });
    for (const bytes of [ckpt, long, gzipSync(long)]) {
      const f = await readImportFile(bytes, {});
      expect(f.kind).toBe('checkpoint');
    }
    await expect(readImportFile(new Uint8Array(3))).rejects.toThrow(/not a file the page reads.*3 bytes long, too short/);
  });
});

/** Structured mutations of a real file: what a careless tool or a hostile person would produce. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('shape' as const), tensor: fc.nat(40), dim: fc.nat(3), value: fc.oneof(fc.nat(200), fc.constant(120_000_000), fc.constant(-1), fc.constant(2 ** 53)) }),
  fc.record({ kind: fc.constant('offset' as const), tensor: fc.nat(40), which: fc.nat(1), delta: fc.integer({ min: -64, max: 64 }) }),
  fc.record({ kind: fc.constant('dtype' as const), tensor: fc.nat(40), dtype: fc.constantFrom('F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'U8', 'BOOL', 'Q4', '') }),
  fc.record({ kind: fc.constant('metadata' as const), key: fc.constantFrom('format', 'grokscope_config', 'key_freqs', 'optimizer_t', 'epoch', 'name', 'backend', 'config'), value: fc.oneof(fc.string(), fc.constant('{}'), fc.constant('null'), fc.constant('[1,2]'), fc.constant(undefined)) }),
  fc.record({
    kind: fc.constant('config' as const),
    field: fc.constantFrom('p', 'dModel', 'nHeads', 'dMlp', 'nLayers', 'act', 'task', 'frac', 'vocabOut', 'epochs', 'seed'),
    value: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double(), fc.constantFrom('gelu', 'relu', 'sub', 'p', 'p1', null, '__proto__')),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('gzip' as const), cut: fc.nat(64) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const pick = (h: Record<string, any>, i: number) => {
    const names = Object.keys(h).filter((k) => k !== '__metadata__');
    return h[names[i % names.length]];
  };
  switch (m.kind) {
    case 'shape':
      return rewriteHeader(bytes, (h) => {
        const t = pick(h, m.tensor);
        t.shape[Math.min(m.dim, Math.max(0, t.shape.length - 1))] = m.value;
      });
    case 'offset':
      return rewriteHeader(bytes, (h) => {
        pick(h, m.tensor).data_offsets[m.which] += m.delta;
      });
    case 'dtype':
      return rewriteHeader(bytes, (h) => {
        pick(h, m.tensor).dtype = m.dtype;
      });
    case 'metadata':
      return rewriteHeader(bytes, (h) => {
        if (m.value === undefined) delete h.__metadata__[m.key];
        else h.__metadata__[m.key] = m.value;
      });
    case 'config':
      return rewriteHeader(bytes, (h) => {
        h.__metadata__.grokscope_config = JSON.stringify({ ...JSON.parse(h.__metadata__.grokscope_config), [m.field]: m.value });
      });
    case 'truncate':
      return bytes.subarray(0, m.at % bytes.length);
    case 'flip': {
      const out = bytes.slice();
      out[m.at % out.length] = m.byte;
      return out;
    }
    case 'gzip': {
      const gz = gzipSync(bytes);
      return gz.subarray(0, gz.length - m.cut);
    }
  }
  throw new Error('unknown mutation');
}

describe('property: the reader never throws anything but a SafetensorsError, and what it accepts is consistent', () => {
  it('survives structured mutations of a real run file and a real checkpoint', async () => {
    const ckpt = encodeCheckpoint({ config, weights: unflattenWeights(config, run.resume!.weights), epoch: 300, trainIndices: run.trainIndices });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (useRun, ms) => {
        let bytes = useRun ? file : ckpt;
        for (const m of ms) {
          try {
            bytes = mutate(bytes, m);
          } catch {
            return; // a mutation that does not apply to this file (no such tensor dimension)
          }
        }
        const started = Date.now();
        try {
          const f = await readImportFile(bytes, {});
          // A binary file never reads as a packed sweep (JSON).
          if (f.kind === 'sweep') throw new Error('a mutated safetensors file read as JSON');
          if (f.kind === 'sequence') throw new Error('a mutated safetensors file read as a torch file');
          // Accepted: every array has the sizes its configuration says.
          const c = f.kind === 'run' ? f.run.config : f.checkpoint.config;
          const size = numParams(c);
          if (f.kind === 'run') {
            for (const s of f.run.snapshots) expect(s.weights.length).toBe(size);
            if (f.run.resume) expect([f.run.resume.weights.length, f.run.resume.m.length, f.run.resume.v.length]).toEqual([size, size, size]);
            for (const h of f.run.history) expect(h.normsWE.length).toBeLessThanOrEqual((c.p + 1) / 2);
            // The fraction names the split's count, to within one pair.
            expect(Math.abs(f.run.trainIndices.length - c.frac * c.p * c.p)).toBeLessThan(1);
          } else {
            expect(Object.values(f.checkpoint.weights).reduce((n, w) => n + w.length, 0)).toBe(size);
          }
        } catch (err) {
          if (!(err instanceof SafetensorsError)) throw err;
          expect(err.message.length).toBeGreaterThan(10);
        }
        expect(Date.now() - started).toBeLessThan(5000);
      }),
      { numRuns: 300, seed: 16 },
    );
  }, 120_000);
});
