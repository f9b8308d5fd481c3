/** The CLI's inflater: Node's zlib stream, read through the same limit as the page's. */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { collectLimited, corruptGzip, gzipSizeHint, type Inflater } from '../../files/inflate.ts';

export const inflateNode: Inflater = async (compressed, limit) => {
  const gunzip = createGunzip();
  Readable.from([compressed]).pipe(gunzip);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of gunzip) yield chunk as Uint8Array;
    } catch (err) {
      if (err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('Z_')) throw corruptGzip();
      throw err;
    }
  }
  return collectLimited(chunks(), { limit, hint: gzipSizeHint(compressed, limit), cancel: () => gunzip.destroy() });
};
