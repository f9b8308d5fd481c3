/**
 * CPython's `random` module, as far as the paper authors' split needs it: `random.seed(n)` for a
 * whole number n, `getrandbits(k)` and `random.shuffle(list)` (CPython's _randommodule.c and
 * random.py, the same since Python 3.2). Their code shuffles the P² pairs (a, b, P), a-major, with
 * `random.seed(seed); random.shuffle(pairs)` and trains on the first int(frac·P²) of them, so the
 * split here is identical to theirs pair for pair.
 */

const N = 624;
const M = 397;

/** MT19937, seeded the way CPython seeds it from an int. */
export class PythonRandom {
  private mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** `random.seed(n)`: the absolute value's 32-bit words, least significant first, through init_by_array. */
  seed(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`a Python seed here must be a whole number, got ${n}`);
    let v = Math.abs(n);
    const key: number[] = [];
    do {
      key.push(v % 2 ** 32);
      v = Math.floor(v / 2 ** 32);
    } while (v > 0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.index = N;
  }

  /** genrand_uint32: the next 32-bit output. */
  uint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let kk = 0; kk < N; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % N] & 0x7fffffff);
        mt[kk] = mt[(kk + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `getrandbits(k)` for 1 ≤ k ≤ 32: the top k bits of one output. */
  getrandbits(k: number): number {
    if (!(k >= 1 && k <= 32)) throw new Error(`getrandbits(${k}) is only needed for 1 ≤ k ≤ 32 here`);
    return this.uint32() >>> (32 - k);
  }

  /** `_randbelow(n)`: rejection sampling on n.bit_length() bits. */
  randbelow(n: number): number {
    const k = 32 - Math.clz32(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.shuffle(x)` in place: Fisher–Yates from the end. */
  shuffle<T>(x: { length: number; [i: number]: T }): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
  }
}

/**
 * The authors' split (their gen_train_test): pair indices a·P + b in shuffled order; the first
 * int(frac·P²) train. Returns the permutation so a test can compare order as well as sets.
 */
export function pythonSplitOrder(p: number, seed: number): Int32Array {
  const perm = new Int32Array(p * p);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  new PythonRandom(seed).shuffle(perm);
  return perm;
}
