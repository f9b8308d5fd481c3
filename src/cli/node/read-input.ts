/**
 * How the CLI reads a file it is given (inspect, analyze, train --init): every path the same way.
 * A regular file is refused by its size before it is read; a pipe (`inspect <(cat run)`,
 * `… | inspect /dev/stdin`, a FIFO) is read as it streams, up to the same limit, and a FIFO that no
 * writer opens is given up on after a wait instead of blocking forever. Anything else (a terminal,
 * a device, a socket) is refused by what it is.
 */
import { closeSync, constants, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { SafetensorsError } from '../../files/safetensors/safetensors.ts';

/** A refused input: the CLI exits 2 with its message. */
export class InputError extends SafetensorsError {
  override name = 'InputError';
}

/** How long a named pipe may wait for a writer to open it. */
export const PIPE_WAIT_MS = 10_000;
const CHUNK = 1 << 20;

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

function what(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device (a terminal, or /dev/zero?)';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Reads a pipe without ever blocking the process: polls a non-blocking descriptor. */
async function readPipe(path: string, maxBytes: number, waitMs: number): Promise<Uint8Array> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Until a writer is seen, an empty read means none has opened the pipe yet (not its end).
  let writerSeen = false;
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const buf = new Uint8Array(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        writerSeen = true;
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      if (n === 0) {
        if (writerSeen || total > 0) break;
        if (Date.now() > deadline) throw new InputError(`nothing was written to the pipe ${path} within ${waitMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      writerSeen = true;
      total += n;
      if (total > maxBytes) throw new InputError(`${path} streams more than the ${mb(maxBytes)} this page reads; it was not read further`);
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** The bytes of a file or pipe, at most `maxBytes`; an InputError says why not. */
export async function readInput(path: string, maxBytes: number, opts: { pipeWaitMs?: number } = {}): Promise<Uint8Array> {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${path}: ${code === 'ENOENT' ? 'there is no such file' : (err as Error).message}`);
  }
  if (st.isFile()) {
    if (st.size > maxBytes) throw new InputError(`the file is ${(st.size / 1e6).toFixed(0)} MB, more than the ${mb(maxBytes)} this page reads`);
    try {
      return new Uint8Array(readFileSync(path));
    } catch (err) {
      throw new InputError(`cannot read ${path}: ${(err as Error).message}`);
    }
  }
  if (st.isFIFO()) return readPipe(path, maxBytes, opts.pipeWaitMs ?? PIPE_WAIT_MS);
  throw new InputError(`${path} is ${what(st)}, not a file or a pipe`);
}
