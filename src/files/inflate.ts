/**
 * Streaming gzip decompression with a limit, one API for page and CLI: the page inflates with the
 * browser's DecompressionStream, the CLI with Node's zlib stream (src/cli/node/inflate.ts); both
 * feed their chunks to `collectLimited`, which stops reading as soon as the output passes the
 * limit. A gzip bomb (1 MB → 1 GiB) is refused after reading `limit` bytes of it, never inflated
 * whole, and peak memory stays near the limit however large the claimed output.
 */
import { SafetensorsError } from './safetensors/safetensors.ts';

/** Nothing the page reads inflates past this (a long run with every snapshot is ~100 MB). */
export const MAX_INFLATED_BYTES = 512 * 1024 * 1024;

/** Decompresses gzip bytes, refusing output beyond `limit` bytes. */
export type Inflater = (compressed: Uint8Array, limit: number) => Promise<Uint8Array>;

/** gzip magic bytes. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gzip's trailer says the inflated size modulo 2³²: a hint for the first allocation, never trusted. */
function sizeHint(compressed: Uint8Array, limit: number): number {
  if (compressed.length < 18) return 64 * 1024;
  const n = compressed.length;
  const isize = (compressed[n - 4] | (compressed[n - 3] << 8) | (compressed[n - 2] << 16) | (compressed[n - 1] << 24)) >>> 0;
  return Math.max(64 * 1024, Math.min(isize, limit));
}

export function tooLarge(limit: number): SafetensorsError {
  return new SafetensorsError(`the file inflates to more than ${Math.round(limit / 1024 / 1024)} MB, more than any file this page reads (a gzip bomb?); it was not decompressed further`);
}

export function corruptGzip(): SafetensorsError {
  return new SafetensorsError('the file is gzip-compressed but truncated or corrupt');
}

/**
 * Gathers decompressed chunks into one buffer that grows by doubling (starting at the trailer's
 * hint), throwing `tooLarge` as soon as the total passes `limit`. `cancel` stops the producer.
 */
export async function collectLimited(chunks: AsyncIterable<Uint8Array>, opts: { limit: number; hint: number; cancel: () => void }): Promise<Uint8Array> {
  let buf = new Uint8Array(Math.min(opts.hint, opts.limit));
  let length = 0;
  for await (const chunk of chunks) {
    if (length + chunk.length > opts.limit) {
      opts.cancel();
      throw tooLarge(opts.limit);
    }
    if (length + chunk.length > buf.length) {
      const grown = new Uint8Array(Math.min(opts.limit, Math.max(buf.length * 2, length + chunk.length)));
      grown.set(buf.subarray(0, length));
      buf = grown;
    }
    buf.set(chunk, length);
    length += chunk.length;
  }
  // A view when the hint was exact (the usual case): no second copy of the whole file.
  return length === buf.length ? buf : buf.slice(0, length);
}

/** The browser's (and Node's web-streams) DecompressionStream, read chunk by chunk. */
export const inflateWeb: Inflater = async (compressed, limit) => {
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
  return collectLimited(chunks(), { limit, hint: sizeHint(compressed, limit), cancel: () => void reader.cancel().catch(() => undefined) });
};

export { sizeHint as gzipSizeHint };
