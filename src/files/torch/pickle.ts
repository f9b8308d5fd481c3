/**
 * A safe reader for the pickles inside torch.save files (data.pkl). It interprets the opcodes
 * that build dicts, lists, tuples, numbers, strings and bytes, and resolves only an allow-list
 * of globals, each to a plain value: OrderedDict (a Map), torch's tensor rebuilders (a tensor
 * description, its bytes read later from the archive), typed storages (a dtype), torch dtypes and
 * devices (their names), and the configuration classes of TransformerLens (an inert record of the
 * fields pickled with it). Every other global is refused with its name; no code from the file is
 * ever run (nothing is imported, called or evaluated).
 */
import { cutText as shortName } from '../../run/format.ts';
import type { Dtype } from '../safetensors/safetensors.ts';
import { TorchFileError } from './zip.ts';

function fail(message: string): never {
  throw new TorchFileError(message);
}

/** A storage reference from a persistent id: ('storage', type, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  dtype: Dtype;
  key: string;
  numel: number;
}

/** A tensor as _rebuild_tensor_v2 describes it: a strided view of a storage. */
export class TorchTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** An instance of an allow-listed plain-data class: its class name and pickled fields. */
export class PyRecord {
  state: PyValue = null;
  constructor(readonly className: string) {}
}

/** A resolved global that is used as a value (a dtype, a storage type, a class). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PyKey = string | number | boolean | null;
export type PyValue = null | boolean | number | string | Uint8Array | PyValue[] | PyTuple | Map<PyKey, PyValue> | TorchTensor | StorageRef | PyRecord | PyGlobal;

/** Storage classes torch.save names, and the safetensors dtype of their elements. */
export const STORAGE_DTYPES: Record<string, Dtype> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const TORCH_DTYPE_NAMES = new Set(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'float', 'double', 'half', 'long', 'int']);
/**
 * Plain-data configuration classes kept as inert records: TransformerLens' model config, and the
 * paper authors' Config dataclass (saved from a script or from their transformers module).
 */
function isRecordClass(q: string): boolean {
  return /^transformer_lens\.(HookedTransformerConfig\.)?HookedTransformerConfig$/.test(q) || /^(__main__|([\w.]+\.)?transformers)\.Config$/.test(q);
}

/** Resolves a global by name, or refuses it. */
function resolveGlobal(module: string, name: string): PyGlobal {
  const q = `${module}.${name}`;
  const ok =
    q === 'collections.OrderedDict' ||
    q === 'torch._utils._rebuild_tensor_v2' ||
    q === 'torch._utils._rebuild_tensor' ||
    q === 'torch._utils._rebuild_parameter' ||
    q === 'torch.device' ||
    (module === 'torch' && (name in STORAGE_DTYPES || TORCH_DTYPE_NAMES.has(name))) ||
    isRecordClass(q);
  // os.system pickles as posix.system (nt.system on Windows): name it as people know it.
  const known = module === 'posix' || module === 'nt' ? `${q} (os.${shortName(name)})` : shortName(q, 120);
  if (!ok) fail(`the file's pickle names the global ${known}, which this reader does not load (only tensors, numbers, strings, lists and dicts); nothing in the file was run`);
  return new PyGlobal(module, name);
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/**
 * Budgets that keep a hostile pickle from exhausting memory or time: a 20 MB file of EMPTY_DICT
 * opcodes would otherwise build 20 M dicts (4 GB), 100 MB of DUP a stack of 100 M entries. A real
 * run (the authors' 100k-epoch curves, a TransformerLens demo run of hundreds of checkpoints) needs
 * a few hundred thousand objects and a few million elements at most.
 */
export interface PickleBudget {
  /** Dicts, lists, tuples, strings, byte strings and records built. */
  objects: number;
  /** Values placed in containers (list items, dict entries, tuple items). */
  elements: number;
  /** Depth of the stack (a pickle batches 1,000 items per APPENDS). */
  stack: number;
  memo: number;
}

export const PICKLE_BUDGET: PickleBudget = { objects: 2_000_000, elements: 20_000_000, stack: 1_000_000, memo: 2_000_000 };

const fmt = (n: number) => n.toLocaleString('en-US');


function toKey(k: PyValue): PyKey {
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean') return k;
  if (k instanceof PyTuple) return JSON.stringify(k.items.map((x) => (typeof x === 'object' ? String(x) : x)));
  fail('a dict key is not a number or a string');
}

function asInt(v: PyValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} is not a whole number`);
  return v;
}

function intList(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) fail(`${what} is not a tuple`);
  return v.items.map((x) => asInt(x, what));
}

/** Applies an allow-listed callable (REDUCE / NEWOBJ) to its arguments, without running anything. */
function call(fn: PyValue, args: PyValue): PyValue {
  if (!(fn instanceof PyGlobal)) fail('the pickle calls something that is not a known global');
  if (!(args instanceof PyTuple)) fail(`the arguments of ${fn.qualified} are not a tuple`);
  const a = args.items;
  switch (fn.qualified) {
    case 'collections.OrderedDict':
      if (a.length > 0) fail('OrderedDict is built with arguments');
      return new Map();
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const storage = a[0] as StorageRef;
      if (!storage || typeof storage !== 'object' || (storage as StorageRef).kind !== 'storage') fail('a tensor is built from something that is not a storage');
      const shape = intList(a[2], 'a tensor size');
      const stride = intList(a[3], 'a tensor stride');
      if (stride.length !== shape.length) fail('a tensor has as many strides as dimensions');
      return new TorchTensor(storage, asInt(a[1], 'a storage offset'), shape, stride);
    }
    case 'torch._utils._rebuild_parameter':
      return a[0];
    case 'torch.device':
      return a.map((x) => String(x)).join(':');
    default:
      if (isRecordClass(fn.qualified)) return new PyRecord(fn.qualified);
      fail(`the pickle calls ${fn.qualified}, which this reader does not call`);
  }
}

/** Reads a pickle (protocols 0–5 binary opcodes) into plain values, within `budget`. */
export function readPickle(bytes: Uint8Array, persistentLoad: (pid: PyValue) => PyValue, budget: PickleBudget = PICKLE_BUDGET): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let objects = 0;
  let elements = 0;
  const over = (what: string, limit: number): never =>
    fail(`the pickle builds more than ${fmt(limit)} ${what}, far more than any model or run holds (a file made to exhaust memory?); it was not read further`);
  /** Counts a new object (and its `items` elements) against the budget. */
  const built = <T extends StackItem>(v: T, items = 0): T => {
    if (++objects > budget.objects) over('objects', budget.objects);
    placed(items);
    return v;
  };
  const placed = (n: number) => {
    elements += n;
    if (elements > budget.elements) over('list, dict and tuple elements', budget.elements);
  };
  const push = (v: StackItem) => {
    if (stack.length >= budget.stack) over('values on its stack', budget.stack);
    stack.push(v);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail('the pickle is truncated');
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      fail('the pickle holds a string that is not UTF-8');
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle is truncated');
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('the pickle pops an empty stack');
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('the pickle has no mark to pop to');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const top = (): PyValue => {
    const v = stack.at(-1);
    if (v === undefined || v === MARK) fail('the pickle reads an empty stack');
    return v;
  };
  const put = (i: number) => {
    if (memo.size >= budget.memo && !memo.has(i)) over('memo entries', budget.memo);
    memo.set(i, top());
  };
  const get = (i: number) => {
    if (!memo.has(i)) fail(`the pickle reads memo ${i}, which was never written`);
    push(memo.get(i)!);
  };
  const setItems = (d: PyValue, kv: PyValue[]) => {
    if (!(d instanceof Map)) fail('the pickle sets items on something that is not a dict');
    placed(kv.length >> 1);
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(toKey(kv[i]), kv[i + 1]);
  };
  const appendTo = (l: PyValue, xs: PyValue[]) => {
    if (!Array.isArray(l)) fail('the pickle appends to something that is not a list');
    placed(xs.length);
    for (const x of xs) l.push(x);
  };
  const longLE = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number(v);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: take(8); break; // FRAME (protocol 4): a length hint
      case 0x2e: return pop(); // STOP
      case 0x28: push(MARK); break; // MARK
      case 0x7d: push(built(new Map())); break; // EMPTY_DICT
      case 0x5d: push(built([])); break; // EMPTY_LIST
      case 0x29: push(built(new PyTuple([]))); break; // EMPTY_TUPLE
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4a: need(4); push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x8a: push(longLE(take(u8()))); break; // LONG1
      case 0x8b: { const n = u32(); if (n > 64) fail('the pickle holds an integer too large to be a size'); push(longLE(take(n))); break; } // LONG4
      case 0x47: need(8); push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT
      case 0x49: { const s = line(); push(s === '00' ? false : s === '01' ? true : Number(s)); break; } // INT
      case 0x46: push(Number(line())); break; // FLOAT
      case 0x4c: push(Number(line().replace(/L$/, ''))); break; // LONG
      case 0x58: push(built(text(take(u32())))); break; // BINUNICODE
      case 0x8c: push(built(text(take(u8())))); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(view.getBigUint64(pos, true)); pos += 8; if (n > bytes.length) fail('the pickle is truncated'); push(built(text(take(n)))); break; } // BINUNICODE8
      case 0x54: push(built(new TextDecoder('latin1').decode(take(u32())))); break; // BINSTRING
      case 0x55: push(built(new TextDecoder('latin1').decode(take(u8())))); break; // SHORT_BINSTRING
      case 0x42: push(built(take(u32()).slice())); break; // BINBYTES
      case 0x43: push(built(take(u8()).slice())); break; // SHORT_BINBYTES
      case 0x71: put(u8()); break; // BINPUT
      case 0x72: put(u32()); break; // LONG_BINPUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x68: get(u8()); break; // BINGET
      case 0x6a: get(u32()); break; // LONG_BINGET
      case 0x74: { const xs = popMark(); push(built(new PyTuple(xs), xs.length)); break; } // TUPLE
      case 0x85: push(built(new PyTuple([pop()]), 1)); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); push(built(new PyTuple([a, b]), 2)); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); push(built(new PyTuple([a, b, c]), 3)); break; } // TUPLE3
      case 0x6c: { const xs = popMark(); push(built(xs, xs.length)); break; } // LIST
      case 0x64: { const d = built(new Map<PyKey, PyValue>()); setItems(d, popMark()); push(d); break; } // DICT
      case 0x61: { const x = pop(); appendTo(top(), [x]); break; } // APPEND
      case 0x65: { const xs = popMark(); appendTo(top(), xs); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x63: { const module = line(); const name = line(); push(built(resolveGlobal(module, name))); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL names are not strings'); push(built(resolveGlobal(module, name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const fn = pop(); push(built(call(fn, args))); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); push(built(call(cls, args))); break; } // NEWOBJ
      case 0x62: { // BUILD: state for the object below it
        const state = pop();
        const obj = top();
        if (obj instanceof PyRecord) obj.state = state;
        else if (!(obj instanceof Map)) fail('the pickle sets state on something that is not a record');
        // An OrderedDict's state (a state_dict's _metadata of module versions) is not needed.
        break;
      }
      case 0x51: push(built(persistentLoad(pop()))); break; // BINPERSID
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP
      default:
        fail(`the pickle uses opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}, which this reader does not interpret`);
    }
  }
}

/** The persistent ids torch.save writes for storages: ('storage', <type>, key, location, numel). */
export function storageFromPid(pid: PyValue): StorageRef {
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') fail('the pickle refers to an external object that is not a storage');
  const [, type, key, , numel] = pid.items;
  if (!(type instanceof PyGlobal) || !(type.name in STORAGE_DTYPES)) fail('a storage has an unknown type');
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) fail('a storage has an invalid key');
  return { kind: 'storage', dtype: STORAGE_DTYPES[type.name], key, numel: asInt(numel, 'a storage size') };
}
