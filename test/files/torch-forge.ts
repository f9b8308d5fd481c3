/**
 * torch.save files written by hand, for tests: a pickle writer (protocol 2 opcodes, as torch.save
 * writes them: https://github.com/python/cpython/blob/main/Lib/pickletools.py names each one) and
 * the stored zip archive around it. Small honest files (a TransformerLens Grokking-demo run of any
 * split) and hostile ones (broadcast views, opcode floods, epoch 5e7) are a few lines each, so no
 * large fixture is checked in.
 */
import { crc32 } from '../../src/files/recording.ts';

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, EMPTY_DICT: 0x7d, EMPTY_LIST: 0x5d, EMPTY_TUPLE: 0x29,
  NEWFALSE: 0x89, BININT: 0x4a, BINFLOAT: 0x47, BINUNICODE: 0x58, TUPLE: 0x74, SETITEMS: 0x75,
  APPENDS: 0x65, GLOBAL: 0x63, REDUCE: 0x52, BINPERSID: 0x51, DUP: 0x32, POP: 0x30, LONG1: 0x8a,
} as const;

export type StorageType = 'FloatStorage' | 'LongStorage' | 'DoubleStorage';

/** A pickle built opcode by opcode. */
export class PickleWriter {
  private chunks: Uint8Array[] = [];
  private bytes: number[] = [];

  private flush(): void {
    if (this.bytes.length) this.chunks.push(Uint8Array.from(this.bytes));
    this.bytes = [];
  }
  op(code: number): this {
    this.bytes.push(code);
    return this;
  }
  /** `count` copies of one opcode (a flood), written as one block. */
  repeat(code: number, count: number): this {
    this.flush();
    this.chunks.push(new Uint8Array(count).fill(code));
    return this;
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }
  proto(): this {
    return this.op(OP.PROTO).raw([2]);
  }
  mark(): this {
    return this.op(OP.MARK);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, b.length, true);
    this.op(OP.BINUNICODE).raw(n);
    this.flush();
    this.chunks.push(b);
    return this;
  }
  int(v: number): this {
    if (Number.isInteger(v) && Math.abs(v) < 2 ** 31) {
      const n = new Uint8Array(4);
      new DataView(n.buffer).setInt32(0, v, true);
      return this.op(OP.BININT).raw(n);
    }
    // LONG1: little-endian two's complement, as Python writes ints beyond 32 bits.
    let x = BigInt(v);
    const out: number[] = [];
    while (x !== 0n && x !== -1n) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (out.length === 0 || (out.at(-1)! & 0x80) !== (v < 0 ? 0x80 : 0)) out.push(v < 0 ? 0xff : 0);
    return this.op(OP.LONG1).raw([out.length, ...out]);
  }
  float(v: number): this {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setFloat64(0, v, false);
    return this.op(OP.BINFLOAT).raw(n);
  }
  global(module: string, name: string): this {
    return this.op(OP.GLOBAL).raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }
  /** A tuple of what `items` writes. */
  tuple(items: () => void): this {
    this.mark();
    items();
    return this.op(OP.TUPLE);
  }
  /** A dict of (key, write value) entries. */
  dict(entries: [string, () => void][]): this {
    this.op(OP.EMPTY_DICT);
    if (entries.length === 0) return this;
    this.mark();
    for (const [k, v] of entries) {
      this.str(k);
      v();
    }
    return this.op(OP.SETITEMS);
  }
  /** A list of numbers (floats), batched 1,000 per APPENDS as pickle does. */
  floats(xs: ArrayLike<number>): this {
    this.op(OP.EMPTY_LIST);
    for (let i = 0; i < xs.length; i += 1000) {
      this.mark();
      for (let j = i; j < Math.min(xs.length, i + 1000); j++) this.float(xs[j]);
      this.op(OP.APPENDS);
    }
    return this;
  }
  ints(xs: ArrayLike<number>): this {
    this.op(OP.EMPTY_LIST);
    if (xs.length === 0) return this;
    this.mark();
    for (let i = 0; i < xs.length; i++) this.int(xs[i]);
    return this.op(OP.APPENDS);
  }
  list(items: (() => void)[]): this {
    this.op(OP.EMPTY_LIST);
    if (items.length === 0) return this;
    this.mark();
    for (const it of items) it();
    return this.op(OP.APPENDS);
  }
  /** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
  tensor(t: { type: StorageType; key: string; numel: number; offset?: number; shape: number[]; stride?: number[] }): this {
    const stride = t.stride ?? contiguousStride(t.shape);
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.tuple(() => {
      this.tuple(() => {
        this.str('storage');
        this.global('torch', t.type);
        this.str(t.key);
        this.str('cpu');
        this.int(t.numel);
      });
      this.op(OP.BINPERSID);
      this.int(t.offset ?? 0);
      this.tuple(() => t.shape.forEach((d) => this.int(d)));
      this.tuple(() => stride.forEach((d) => this.int(d)));
      this.op(OP.NEWFALSE);
      this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE).op(OP.REDUCE);
    });
    return this.op(OP.REDUCE);
  }
  stop(): Uint8Array {
    this.op(OP.STOP);
    this.flush();
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export { OP };

export function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
  return stride;
}


/** A stored (uncompressed) zip archive, as torch.save writes it. */
export function storedZip(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of all) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A torch.save archive of a pickle and its storages (key → little-endian bytes). */
export function torchArchive(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return storedZip([
    ['archive/data.pkl', pickle],
    ['archive/byteorder', new TextEncoder().encode('little')],
    ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as [string, Uint8Array]),
  ]);
}

/** mulberry32, for weights that are the same on every run of a test. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** TransformerLens shapes of the 1-layer model (d_vocab P + 1, d_vocab_out P, as the Grokking demo). */
function tlShapes(p: number, d: number, h: number, mlp: number): [string, number[]][] {
  const dh = d / h;
  return [
    ['embed.W_E', [p + 1, d]], ['pos_embed.W_pos', [3, d]],
    ['blocks.0.attn.W_Q', [h, d, dh]], ['blocks.0.attn.W_K', [h, d, dh]], ['blocks.0.attn.W_V', [h, d, dh]],
    ['blocks.0.attn.W_O', [h, dh, d]], ['blocks.0.mlp.W_in', [d, mlp]], ['blocks.0.mlp.b_in', [mlp]],
    ['blocks.0.mlp.W_out', [mlp, d]], ['blocks.0.mlp.b_out', [d]], ['unembed.W_U', [d, p]],
  ];
}

export interface ModelShape {
  p: number;
  dModel: number;
  nHeads: number;
  dMlp: number;
}

/** Writes TransformerLens state dicts with random weights (scale 0.3) into `w`, their storages into `storages`. */
function stateDictWriter(w: PickleWriter, storages: Record<string, Uint8Array>, m: ModelShape, seed: number, replace: Record<string, (w: PickleWriter) => void> = {}): () => void {
  const random = rng(seed);
  const shapes = tlShapes(m.p, m.dModel, m.nHeads, m.dMlp);
  return () => {
    w.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE).op(OP.REDUCE);
    w.mark();
    for (const [name, shape] of shapes) {
      if (replace[name]) {
        replace[name](w.str(name));
        continue;
      }
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: n }, () => (random() - 0.5) * 0.6);
      const k = String(Object.keys(storages).length);
      storages[k] = new Uint8Array(values.buffer);
      w.str(name).tensor({ type: 'FloatStorage', key: k, numel: n, shape });
    }
    w.op(OP.SETITEMS);
  };
}

/** `{model: a TransformerLens state dict, ...extra}`, as a checkpoint holds it; `replace` writes some of its tensors. */
export function tlModelFile(m: ModelShape, extra: [string, (w: PickleWriter) => void][] = [], opts: { seed?: number; replace?: Record<string, (w: PickleWriter) => void>; storages?: Record<string, Uint8Array> } = {}): Uint8Array {
  const storages: Record<string, Uint8Array> = { ...opts.storages };
  const w = new PickleWriter().proto();
  w.dict([['model', stateDictWriter(w, storages, m, opts.seed ?? 1, opts.replace)], ...extra.map(([k, f]) => [k, () => f(w)] as [string, () => void])]);
  return torchArchive(w.stop(), storages);
}

/**
 * A TransformerLens Grokking-demo run file: {model, checkpoints, checkpoint_epochs, train_losses,
 * test_losses, train_indices}, with random weights and the split given.
 */
export function tlDemoRun(opts: ModelShape & { trainIndices: number[]; checkpointEpochs: number[]; epochs: number; seed?: number }): Uint8Array {
  const storages: Record<string, Uint8Array> = {};
  const w = new PickleWriter().proto();
  const stateDict = stateDictWriter(w, storages, opts, opts.seed ?? 1);
  const idx = 'indices';
  storages[idx] = new Uint8Array(BigInt64Array.from(opts.trainIndices.map(BigInt)).buffer);
  w.dict([
    ['model', stateDict],
    ['checkpoints', () => w.list(opts.checkpointEpochs.map(() => stateDict))],
    ['checkpoint_epochs', () => w.ints(opts.checkpointEpochs)],
    ['train_losses', () => w.floats(Array.from({ length: opts.epochs }, (_, i) => 4.5 * Math.exp(-i / 30)))],
    ['test_losses', () => w.floats(Array.from({ length: opts.epochs }, () => 4.8))],
    ['train_indices', () => w.tensor({ type: 'LongStorage', key: idx, numel: opts.trainIndices.length, shape: [opts.trainIndices.length] })],
  ]);
  return torchArchive(w.stop(), storages);
}

/** `n` distinct pair indices of [0, P²), drawn with a seed. */
export function someIndices(p: number, n: number, seed = 3): number[] {
  const random = rng(seed);
  const all = Array.from({ length: p * p }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, n).sort((a, b) => a - b);
}

/**
 * The authors' sweep files' structure (saved_runs/mod_addition_frac_train_sweep.pth: [fractions,
 * curves]; no_wd_width_scan.pth: {'losses', 'd_models'}), train and test interleaved per run.
 * Train loss of run i falls to 10^-(i+2), test loss to 10^-(i+1) (the second list ends higher).
 */
const curve = (n: number, end: number) => Array.from({ length: n }, (_, e) => 4.7 * (end / 4.7) ** (e / (n - 1)));
const pairs = (lengths: number[]) => lengths.flatMap((n, i) => [curve(n, 10 ** -(i + 2)), curve(n, 10 ** -(i + 1))]);

export function authorsFracSweep(fracs: number[], lengths: number[]): Uint8Array {
  const w = new PickleWriter().proto();
  w.list([() => w.floats(fracs), () => w.list(pairs(lengths).map((c) => () => w.floats(c)))]);
  return torchArchive(w.stop());
}

export function authorsWidthScan(widths: number[], n: number): Uint8Array {
  const w = new PickleWriter().proto();
  w.dict([
    ['losses', () => w.list(pairs(widths.map(() => n)).map((c) => () => w.floats(c)))],
    ['d_models', () => w.ints(widths)],
  ]);
  return torchArchive(w.stop());
}

/** Row-major [.., r, c] → [.., c, r]. */
function swapLast(v: Float32Array, shape: number[]): Float32Array {
  const [r, c] = shape.slice(-2);
  const out = new Float32Array(v.length);
  for (let b = 0; b < v.length / (r * c); b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[b * r * c + j * r + i] = v[b * r * c + i * c + j];
  return out;
}

/** Our parameter in the authors' orientation (the inverse of files/torch/import.ts's conversion). */
function authorsLayout(name: string, v: Float32Array, shape: number[]): [Float32Array, number[]] {
  if (shape.length < 2 || /W_pos|W_U$/.test(name)) return [v, shape];
  // W_O [h, dh, d] → [h·dh, d] → [d, h·dh]
  if (/W_O$/.test(name)) return [swapLast(v, [shape[0] * shape[1], shape[2]]), [shape[2], shape[0] * shape[1]]];
  return [swapLast(v, shape), [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!]];
}

/**
 * An authors' saved run of an appendix task (saved_runs/ of progress-measures-paper): {train_losses,
 * model: these weights (sequence model names, TransformerLens orientation) in the authors' layout
 * with a causal mask buffer per block, ...extra}. `blocks`: 'attn_blocks' for the induction-head model.
 */
export function authorsSequenceFile(params: Map<string, { values: Float32Array; shape: number[] }>, nCtx: number, opts: { blocks?: string; extra?: [string, (w: PickleWriter) => void][]; replace?: Record<string, number[]> } = {}): Uint8Array {
  const storages: Record<string, Uint8Array> = {};
  const w = new PickleWriter().proto();
  const tensor = (values: Float32Array, shape: number[]) => {
    const key = String(Object.keys(storages).length);
    storages[key] = new Uint8Array(values.slice().buffer);
    w.tensor({ type: 'FloatStorage', key, numel: values.length, shape });
  };
  const model = () => {
    w.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE).op(OP.REDUCE).mark();
    for (const [name, p] of params) {
      const given = opts.replace?.[name];
      const [v, shape] = given ? [new Float32Array(given.reduce((a, b) => a * b, 1)), given] : authorsLayout(name, p.values, p.shape);
      w.str(name.replace(/^blocks\./, `${opts.blocks ?? 'blocks'}.`));
      tensor(v, shape);
      if (/attn\.W_V$/.test(name)) {
        // The causal mask buffer, as the authors' attention keeps it (skipped on reading).
        const n = nCtx;
        w.str(name.replace(/^blocks\./, `${opts.blocks ?? 'blocks'}.`).replace(/W_V$/, 'mask'));
        tensor(Float32Array.from({ length: n * n }, (_, i) => (i % n <= Math.floor(i / n) ? 1 : 0)), [n, n]);
      }
    }
    w.op(OP.SETITEMS);
  };
  w.dict([['train_losses', () => w.floats([2.4, 1.1, 0.3])], ['model', model], ...(opts.extra ?? []).map(([k, f]) => [k, () => f(w)] as [string, () => void])]);
  return torchArchive(w.stop(), storages);
}
