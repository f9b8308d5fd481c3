/**
 * Streaming gzip decompression with a limit: the one inflater of every path in, the page's imports
 * (run files, weights, packed sweeps) and the CLI's (inspect, analyze, train --init), all through
 * the web-streams DecompressionStream (the browser's, and Node's own since Node 18). Chunks are
 * gathered by `collectLimited`, which stops reading as soon as the output passes the limit, so a
 * gzip bomb (1 MB → 1 GiB) is refused after reading at most `limit` bytes of it, never inflated
 * whole. A `HeadCheck` looks at the first bytes as they arrive: a file that states its own size
 * (a safetensors header) is held to it, and bytes that are no file of the kind expected are refused
 * at once, so a bomb of zeros costs its first chunk, not 512 MB.
 */
import { SafetensorsError } from './safetensors/safetensors.ts';

/** Nothing the page reads inflates past this (a long run with every snapshot is ~100 MB). */
export const MAX_INFLATED_BYTES = 512 * 1024 * 1024;

/**
 * What the first inflated bytes say: 'more' (not enough yet), 'unknown' (the size is not stated:
 * keep the limit), or the file's whole size. Throws to refuse the file there and then.
 */
export type HeadCheck = (head: Uint8Array) => 'more' | 'unknown' | { size: number };

/** Decompresses gzip bytes, refusing output beyond `limit` bytes (or beyond what `check` finds). */
export type Inflater = (compressed: Uint8Array, limit: number, check?: HeadCheck) => Promise<Uint8Array>;

/** gzip magic bytes. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gzip's trailer says the inflated size modulo 2³²: a hint for the first allocation, never trusted. */
function sizeHint(compressed: Uint8Array, limit: number): number {
  if (compressed.length < 18) return 64 * 1024;
  const n = compressed.length;
  const isize = (compressed[n - 4] | (compressed[n - 3] << 8) | (compressed[n - 2] << 16) | (compressed[n - 1] << 24)) >>> 0;
  // A bomb's trailer claims its whole size: start small and grow until the output proves it.
  return Math.max(64 * 1024, Math.min(isize, limit, 64 * 1024 * 1024));
}

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

export function tooLarge(limit: number): SafetensorsError {
  return new SafetensorsError(`the file inflates to more than ${mb(limit)}, more than any file this page reads (a gzip bomb?); it was not decompressed further`);
}

export function corruptGzip(): SafetensorsError {
  return new SafetensorsError('the file is gzip-compressed but truncated or corrupt');
}

/**
 * Gathers decompressed chunks into one buffer that grows by doubling (from `hint`, or at once to
 * the size the head states), throwing `tooLarge` as soon as the total passes the limit. `cancel`
 * stops the producer.
 */
export async function collectLimited(chunks: AsyncIterable<Uint8Array>, opts: { limit: number; hint: number; cancel: () => void; check?: HeadCheck }): Promise<Uint8Array> {
  let limit = opts.limit;
  let buf = new Uint8Array(Math.min(opts.hint, limit));
  let length = 0;
  let checking = opts.check !== undefined;
  let declared = false;
  const grow = (to: number) => {
    const grown = new Uint8Array(Math.min(limit, to));
    grown.set(buf.subarray(0, length));
    buf = grown;
  };
  try {
    for await (const chunk of chunks) {
      if (length + chunk.length > limit) {
        throw declared ? new SafetensorsError(`the file inflates to more than the ${limit.toLocaleString('en-US')} bytes its header says it holds (a gzip bomb?); it was not decompressed further`) : tooLarge(limit);
      }
      if (length + chunk.length > buf.length) grow(Math.max(buf.length * 2, length + chunk.length));
      buf.set(chunk, length);
      length += chunk.length;
      if (checking) {
        const said = opts.check!(buf.subarray(0, length));
        if (said === 'more') continue;
        checking = false;
        if (said === 'unknown') continue;
        if (said.size > limit) {
          throw new SafetensorsError(`the file's header says it is ${mb(said.size)}, more than the ${mb(limit)} this page reads; it was not decompressed further`);
        }
        // What the file says it holds, and no more.
        limit = Math.max(said.size, length);
        declared = true;
        if (buf.length < limit) grow(limit);
      }
    }
  } catch (err) {
    opts.cancel();
    throw err;
  }
  // A view when the size was exact (the usual case): no second copy of the whole file.
  return length === buf.length ? buf : buf.slice(0, length);
}

/** The web-streams DecompressionStream (browser and Node), read chunk by chunk. */
export const inflate: Inflater = async (compressed, limit, check) => {
  const stream = new Blob([compressed as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch {
        throw corruptGzip();
      }
      if (r.done) return;
      yield r.value;
    }
  }
  return collectLimited(chunks(), { limit, hint: sizeHint(compressed, limit), cancel: () => void reader.cancel().catch(() => undefined), check });
};

/** Inflates when gzip, else the bytes as they are. */
export async function maybeInflate(bytes: Uint8Array, opts: { limit?: number; check?: HeadCheck } = {}): Promise<Uint8Array> {
  return isGzip(bytes) ? inflate(bytes, opts.limit ?? MAX_INFLATED_BYTES, opts.check) : bytes;
}

export { sizeHint as gzipSizeHint };
