/**
 * The Web Worker that reads imported files (src/files/read-files.ts): un-gzipping, parsing and
 * checking a file of any kind happens here, so a large or hostile file never freezes the page's
 * main thread; the page starts one per import and ends it after its answer, which frees whatever
 * the reading took. The answer's weights are handed over, not copied.
 */
import { readFiles, transferables, type ImportAnswer, type ImportSource } from '../files/read-files.ts';

interface WorkerScope {
  postMessage(message: ImportAnswer, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<ImportSource[]>) => void) | null;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (e) => {
  void readFiles(e.data).then((answer) => scope.postMessage(answer, transferables(answer)));
};
