/**
 * Seeded randomness, the same on every backend and in every environment (ANALYSIS.md §1: "a
 * small, documented PRNG"). mulberry32 (Tommy Ettinger, public domain) gives 32-bit outputs;
 * independent streams for the split, the init and the random-table task are derived from the
 * run's seed by a splitmix32 hash of (seed, stream name), so changing one use never shifts another.
 */

/** mulberry32: returns a function yielding uniform uint32 values. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
}

/** splitmix32 finalizer: a well-mixed 32-bit hash of one 32-bit value. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** The seed of a named stream of a run: hash of the run seed and the stream's name. */
export function streamSeed(seed: number, stream: string): number {
  let h = splitmix32(seed >>> 0);
  for (let i = 0; i < stream.length; i++) h = splitmix32(h ^ stream.charCodeAt(i));
  return h;
}

export class Rng {
  private readonly next32: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.next32 = mulberry32(seed);
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.next32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by the Box–Muller transform (uses both outputs). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    // 1 - u keeps the logarithm finite.
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(xs: T): T {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }
}
