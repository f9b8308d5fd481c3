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
 * What the first inflated bytes say: `{ need }` (look again once this many bytes are in),
 * 'unknown' (the size is not stated: keep the limit), or the file's whole size. Throws to refuse
 * the file there and then.
 */
export type HeadCheck = (head: Uint8Array) => { need: number } | 'unknown' | { size: number };

/** Decompresses gzip bytes, refusing output beyond `limit` bytes (or beyond what `check` finds). */
export type Inflater = (compressed: Uint8Array, limit: number, check?: HeadCheck) => Promise<Uint8Array>;

/** gzip magic bytes. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Bytes past the size a header states that are still read (and then refused by the reader). */
const DECLARED_SLACK = 64 * 1024;

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

export function tooLarge(limit: number): SafetensorsError {
  return new SafetensorsError(`the file inflates to more than ${mb(limit)}, more than any file this page reads (a gzip bomb?); it was not decompressed further`);
}

export function corruptGzip(): SafetensorsError {
  return new SafetensorsError('the file is gzip-compressed but truncated or corrupt');
}

/**
 * Gathers decompressed chunks, throwing `tooLarge` as soon as the total passes the limit: into one
 * buffer of exactly the size the head states when it states one, else as a list joined at the end
 * (a bomb refused at 512 MB then never held more than 512 MB: a buffer grown by doubling held 768).
 * `cancel` stops the producer.
 */
export async function collectLimited(chunks: AsyncIterable<Uint8Array>, opts: { limit: number; cancel: () => void; check?: HeadCheck }): Promise<Uint8Array> {
  let limit = opts.limit;
  const parts: Uint8Array[] = [];
  let exact: Uint8Array | null = null;
  let length = 0;
  let checking = opts.check !== undefined;
  let need = 0;
  try {
    for await (const chunk of chunks) {
      if (length + chunk.length > limit) {
        throw exact ? new SafetensorsError(`the file inflates to more than the ${(limit - DECLARED_SLACK).toLocaleString('en-US')} bytes its header says it holds (a gzip bomb?); it was not decompressed further`) : tooLarge(limit);
      }
      if (exact) exact.set(chunk, length);
      else parts.push(chunk);
      length += chunk.length;
      if (!checking || length < need) continue;
      const said = opts.check!(join(parts, length));
      if (said !== 'unknown' && 'need' in said) {
        need = said.need;
        continue;
      }
      checking = false;
      if (said === 'unknown') continue;
      if (said.size > limit) {
        throw new SafetensorsError(`the file's header says it is ${mb(said.size)}, more than the ${mb(limit)} this page reads; it was not decompressed further`);
      }
      // What the file says it holds, in one buffer, and a little more: a few stray bytes after it
      // are the reader's to name ("… after its last tensor"), a flood of them a bomb.
      limit = Math.min(limit, Math.max(said.size, length) + DECLARED_SLACK);
      exact = new Uint8Array(limit);
      exact.set(join(parts, length));
      parts.length = 0;
    }
  } catch (err) {
    opts.cancel();
    throw err;
  }
  if (exact) return exact.subarray(0, length);
  return join(parts, length);
}

/** The parts as one array (the part itself when there is one). */
function join(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  parts.splice(0, parts.length, out);
  return out;
}

/**
 * Compressed bytes fed to the decompressor a slice at a time, only when it asks for more. A
 * decompressor inflates each chunk it is given whole, however little is read of its output: fed
 * a Blob's stream (one 1 MB chunk), Chromium's inflated a 1 GiB bomb ahead of any read, to 1.9 GB.
 * Deflate expands at most ~1,032×, so a 4 KB slice is at most ~4 MB ahead of the reader.
 */
const SLICE = 4096;

function slices(bytes: Uint8Array): ReadableStream<BufferSource> {
  let at = 0;
  return new ReadableStream<BufferSource>(
    {
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(at, at + SLICE));
        at += SLICE;
      },
    },
    { highWaterMark: 0 },
  );
}

/** The web-streams DecompressionStream (browser and Node), read chunk by chunk. */
export const inflate: Inflater = async (compressed, limit, check) => {
  const stream = slices(compressed).pipeThrough(new DecompressionStream('gzip'));
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
  return collectLimited(chunks(), { limit, cancel: () => void reader.cancel().catch(() => undefined), check });
};

/** Inflates when gzip, else the bytes as they are. */
export async function maybeInflate(bytes: Uint8Array, opts: { limit?: number; check?: HeadCheck } = {}): Promise<Uint8Array> {
  return isGzip(bytes) ? inflate(bytes, opts.limit ?? MAX_INFLATED_BYTES, opts.check) : bytes;
}

