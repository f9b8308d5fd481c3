import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from '../../src/files/safetensors/checkpoint.ts';
import { initWeights, paramSpecs, type Weights } from '../../src/model/transformer/params.ts';
import { SafetensorsError, fromHalf, toHalf } from '../../src/files/safetensors/safetensors.ts';
import { splitPairs } from '../../src/task/pairs.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { maxAbsDiff, tinyConfig, useBackend } from '../helpers.ts';

/** Writes a safetensors file by hand (independently of the module under test). */
function handWritten(header: Record<string, unknown>, data: Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad && (8 + json.length) % 8) {
    const p = new Uint8Array(json.length + 8 - ((8 + json.length) % 8)).fill(32);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The weights of a config as one hand-written file, with the given metadata. */
function handFile(
  c: TrainConfig,
  w: Weights,
  metadata?: Record<string, string>,
  tweak?: (header: Record<string, unknown>) => void,
  opts: { skip?: string; extra?: [string, Float32Array] } = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const tensors: [string, number[], Float32Array][] = paramSpecs(c)
    .filter((s) => s.name !== opts.skip)
    .map((s) => [s.name, s.shape, w[s.name]]);
  if (opts.extra) tensors.push([opts.extra[0], [opts.extra[1].length], opts.extra[1]]);
  for (const [name, shape, values] of tensors) {
    const bytes = new Uint8Array(values.buffer.slice(0));
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  tweak?.(header);
  const data = new Uint8Array(offset);
  let at = 0;
  for (const ch of chunks) {
    data.set(ch, at);
    at += ch.length;
  }
  return handWritten(header, data);
}

/** Parses the header by hand. */
function parseHeader(bytes: Uint8Array): { n: number; header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> } } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
}

const small = tinyConfig({ seed: 2 });
const smallWeights = initWeights(small);
const smallFile = encodeCheckpoint({ config: small, weights: smallWeights, epoch: 12, trainIndices: splitPairs(small.p, small.frac, small.seed).train });

function expectError(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown = null;
  try {
    decodeCheckpoint(bytes);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'should throw').toBeInstanceOf(SafetensorsError);
  expect((caught as Error).message).toMatch(message);
}

describe('checkpoints (safetensors, TransformerLens names)', () => {
  it.each<[string, TrainConfig]>([
    ['mainline', { ...DEFAULT_CONFIG }],
    ['P outputs', { ...DEFAULT_CONFIG, p: 31, vocabOut: 'p' }],
    ['2 layers, GELU', { ...DEFAULT_CONFIG, p: 23, dModel: 32, dMlp: 64, nLayers: 2, act: 'gelu', beta2: 0.99, warmup: 5 }],
  ])('round-trips config, epoch, weights and train indices bit for bit: %s', (_, c) => {
    const weights = initWeights(c);
    const train = splitPairs(c.p, c.frac, c.seed).train;
    const back = decodeCheckpoint(encodeCheckpoint({ config: c, weights, epoch: 4321, trainIndices: train }));
    expect(back.config).toEqual(c);
    expect(back.epoch).toBe(4321);
    expect(Array.from(back.trainIndices!)).toEqual(Array.from(train));
    for (const s of paramSpecs(c)) expect(Array.from(back.weights[s.name])).toEqual(Array.from(weights[s.name]));
  });

  it('writes a header other tools can read: aligned, contiguous, string metadata with the standard config', () => {
    const bytes = encodeCheckpoint({ config: { ...DEFAULT_CONFIG }, weights: initWeights(DEFAULT_CONFIG), epoch: 7 });
    const { n, header } = parseHeader(bytes);
    expect((8 + n) % 8).toBe(0);
    const meta = header.__metadata__!;
    for (const v of Object.values(meta)) expect(typeof v).toBe('string');
    expect(meta.format).toBe(CHECKPOINT_FORMAT);
    expect(meta.epoch).toBe('7');
    expect(JSON.parse(meta.config)).toEqual({
      p: 113,
      d_model: 128,
      n_heads: 4,
      d_head: 32,
      d_mlp: 512,
      n_layers: 1,
      act: 'relu',
      d_vocab_out: 114,
      frac_train: 0.3,
      seed: 0,
      split: 'grokscope',
      task: 'add',
      lr: 0.001,
      weight_decay: 1,
    });
    const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][];
    entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
    let cursor = 0;
    for (const [name, e] of entries) {
      expect(e.dtype, name).toBe('F32');
      expect(e.data_offsets[0]).toBe(cursor);
      cursor = e.data_offsets[1];
    }
    expect(8 + n + cursor).toBe(bytes.length);
    expect(header['embed.W_E'].shape).toEqual([114, 128]);
    expect(header['blocks.0.attn.W_O'].shape).toEqual([4, 32, 128]);
  });

  it('reads a file with only the standard config metadata (as another tool writes it)', () => {
    const c = { ...DEFAULT_CONFIG, p: 53, dModel: 64, nHeads: 4, dMlp: 128, vocabOut: 'p' as const, act: 'gelu' as const };
    const w = initWeights(c);
    const meta = { config: JSON.stringify({ p: 53, d_model: 64, n_heads: 4, d_head: 16, d_mlp: 128, n_layers: 1, act: 'GeLU', d_vocab_out: 53, frac_train: 0.3, seed: 0, task: 'subtract', lr: 0.001, weight_decay: 1 }) };
    const back = decodeCheckpoint(handFile(c, w, meta));
    expect(back.config).toMatchObject({ p: 53, dModel: 64, dMlp: 128, vocabOut: 'p', act: 'gelu', task: 'sub' });
    expect(back.epoch).toBe(0);
    expect(back.trainIndices).toBeNull();
  });

  it('reads a file with no metadata, taking the model from the shapes', () => {
    const c = { ...DEFAULT_CONFIG, p: 23, dModel: 32, nHeads: 2, dMlp: 64, nLayers: 2 };
    const back = decodeCheckpoint(handFile(c, initWeights(c)));
    expect(back.config).toMatchObject({ p: 23, dModel: 32, nHeads: 2, dMlp: 64, nLayers: 2, vocabOut: 'p1' });
  });

  describe('malformed files', () => {
    const meta = { config: JSON.stringify({ p: 7, d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16, n_layers: 1 }) };
    it('missing tensor', () => expectError(handFile(small, smallWeights, meta, undefined, { skip: 'blocks.0.mlp.b_out' }), /tensor "blocks.0.mlp.b_out" is missing/));
    it('extra tensor', () =>
      expectError(handFile(small, smallWeights, meta, undefined, { extra: ['blocks.0.attn.b_Q', new Float32Array(8)] }), /unexpected tensor "blocks.0.attn.b_Q"/));
    it('wrong shape', () =>
      expectError(
        handFile(small, smallWeights, meta, (h) => {
          (h['blocks.0.mlp.W_in'] as { shape: number[] }).shape = [16, 8];
        }),
        /"blocks.0.mlp.W_in" has shape \[16, 8\], expected \[8, 16\]/,
      ));
    it('not float32', () =>
      expectError(
        handFile(small, smallWeights, meta, (h) => {
          const e = h['unembed.W_U'] as { dtype: string; shape: number[] };
          e.dtype = 'I32';
        }),
        /"unembed.W_U" is I32; weights must be float32/,
      ));
    it('truncated data', () => expectError(smallFile.slice(0, smallFile.length - 3), /truncated/));
    it('truncated header', () => expectError(smallFile.slice(0, 40), /truncated: its header needs/));
    it('too short', () => expectError(new Uint8Array(5), /too short/));
    it('oversized', () => {
      const big = new Uint8Array(smallFile.length + 16);
      big.set(smallFile);
      expectError(big, /16 bytes after its last tensor/);
    });
    it('huge header length', () => {
      const f = smallFile.slice();
      new DataView(f.buffer).setBigUint64(0, 2n ** 40n, true);
      expectError(f, /header claims/);
    });
    it('garbage JSON', () => expectError(handWritten({}, new Uint8Array()).map((b, i) => (i === 8 ? 0x7b : i > 8 ? 0x21 : b)), /not valid UTF-8 JSON/));
    it('JSON array', () => {
      const json = new TextEncoder().encode('[1,2,3] ');
      const f = new Uint8Array(8 + json.length);
      new DataView(f.buffer).setBigUint64(0, BigInt(json.length), true);
      f.set(json, 8);
      expectError(f, /not a JSON object/);
    });
    it('overlapping offsets', () =>
      expectError(
        handFile(small, smallWeights, meta, (h) => {
          const e = h['pos_embed.W_pos'] as { data_offsets: number[] };
          e.data_offsets = [e.data_offsets[0] - 4, e.data_offsets[1] - 4];
        }),
        /overlaps|gap/,
      ));
    it('NaN in a weight', () => {
      const w = { ...smallWeights, 'blocks.0.mlp.W_out': smallWeights['blocks.0.mlp.W_out'].map((v, i) => (i === 3 ? NaN : v)) };
      expectError(encodeCheckpoint({ config: small, weights: w, epoch: 0 }), /"blocks.0.mlp.W_out" holds NaN at index 3/);
    });
    it('train indices out of range or repeated', () => {
      expectError(encodeCheckpoint({ config: small, weights: smallWeights, epoch: 0, trainIndices: [0, 49] }), /train_indices.*49 .*outside \[0, 49\)/);
      expectError(encodeCheckpoint({ config: small, weights: smallWeights, epoch: 0, trainIndices: [3, 3] }), /train_indices.*appears twice/);
    });
    it('negative epoch', () => {
      const f = handFile(small, smallWeights, { ...meta, epoch: '-3' });
      expectError(f, /epoch "-3" is not a whole number/);
    });
    it('metadata that contradicts the shapes', () => {
      const wrong = { config: JSON.stringify({ p: 97, d_model: 8, n_heads: 2, d_mlp: 16, n_layers: 1 }) };
      expectError(handFile(small, smallWeights, wrong), /"embed.W_E" has shape \[8, 8\], expected \[98, 8\]/);
    });
    it('an impossible configuration', () => {
      const wrong = { config: JSON.stringify({ p: 7, d_model: 8, n_heads: 3 }) };
      expectError(handFile(small, smallWeights, wrong), /d_model \(8\) must be divisible by heads \(3\)/);
    });
  });

  it('never throws anything but SafetensorsError on random bytes or mutated files, and never hangs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decodeCheckpoint(bytes);
        } catch (err) {
          if (!(err instanceof SafetensorsError)) throw err;
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: smallFile.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat({ max: smallFile.length }),
        (flips, cut) => {
          const f = smallFile.slice(0, Math.max(cut, 1));
          for (const [i, v] of flips) if (i < f.length) f[i] = v;
          try {
            decodeCheckpoint(f);
          } catch (err) {
            if (!(err instanceof SafetensorsError)) throw err;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('half precision', () => {
  it('rounds float32 to IEEE half and back', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 1e-5, 6.1e-5, 3.14159]) {
      const back = fromHalf(toHalf(v));
      expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 6e-8);
    }
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
  });
});

describe('weights survive export → import', () => {
  beforeAll(() => useBackend('wasm'));

  it('gives identical logits after a round trip', async () => {
    const c = tinyConfig({ seed: 5 });
    const a = new Trainer(c);
    for (let e = 0; e < 20; e++) a.trainStep();
    const file = encodeCheckpoint({ config: a.config, weights: await a.readWeights(), epoch: a.epoch, trainIndices: a.dataset.train });
    const back = decodeCheckpoint(file);
    const b = new Trainer(back.config, { weights: back.weights, trainIndices: back.trainIndices! });
    const la = await a.logitsAll().data();
    const lb = await b.logitsAll().data();
    expect(maxAbsDiff(la, lb)).toBe(0);
    expect(Array.from(b.dataset.train)).toEqual(Array.from(a.dataset.train));
    a.dispose();
    b.dispose();
  });
});
