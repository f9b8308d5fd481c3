/**
 * Opening files in the page, from the Import button or dropped anywhere on it: a run file
 * (.grokrun.gz), model weights (.safetensors), PyTorch files (.pth: a checkpoint, a whole run, or
 * several per-epoch files of one run) or a packed sweep (JSON, from the CLI's merge), each told
 * by its contents.
 */
import { useEffect } from 'react';
import { importFiles as importInWorker } from '../../client/runs/run-files.ts';
import { showPackedSweep } from '../../client/sweep/sweep-file.ts';

/** Opens the files (the import worker reads them, off the page's main thread, and says what they are). */
export async function importFiles(files: File[]): Promise<void> {
  await importInWorker(files, showPackedSweep);
}

/** Files dropped anywhere on the page are imported; dragging over it shows a hint (body.dropping). */
export function useFileDrop(): void {
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      document.body.classList.add('dropping');
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) document.body.classList.remove('dropping');
    };
    const drop = (e: DragEvent) => {
      document.body.classList.remove('dropping');
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length === 0) return;
      e.preventDefault();
      void importFiles(files);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
}
