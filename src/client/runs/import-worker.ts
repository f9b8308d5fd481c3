/**
 * The page's side of the import worker (src/worker/import.worker.ts): one worker per import, ended
 * after its answer. The files go as they are (File objects: the worker reads them from disk), so
 * nothing of a file is read on the page's main thread.
 */
import type { ImportAnswer, ImportSource } from '../../files/read-files.ts';

export function readInWorker(files: ImportSource[]): Promise<ImportAnswer> {
  return new Promise((resolve) => {
    const w = new Worker(new URL('../../worker/import.worker.ts', import.meta.url), { type: 'module' });
    const end = (answer: ImportAnswer) => {
      w.terminate();
      resolve(answer);
    };
    w.onmessage = (e: MessageEvent<ImportAnswer>) => end(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      end({ ok: false, message: `the file reader stopped (${e.message || 'it ran out of memory?'})`, torch: false, names: files.map((f) => f.name) });
    };
    w.postMessage(files);
  });
}
