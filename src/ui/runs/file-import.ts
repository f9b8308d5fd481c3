/**
 * Opening files in the page, from the Import button or dropped anywhere on it: a run file
 * (.grokrun.gz), model weights (.safetensors) or PyTorch files (.pth: a checkpoint, a whole run,
 * or several per-epoch files of one run), each recognised by its first bytes.
 */
import { useEffect } from 'react';
import { importFile } from '../../client/runs/run-files.ts';
import { isTorchFile } from '../../files/torch/magic.ts';
import { importSweepFile, looksLikePackedSweep } from '../../client/sweep/sweep-file.ts';

async function head(file: Blob, n: number): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(0, n).arrayBuffer());
}

export async function importFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  const heads = await Promise.all(files.map((f) => head(f, 4096)));
  if (heads.every(isTorchFile) || files.every((f) => /\.(pth|pt)$/i.test(f.name))) {
    // The PyTorch reader loads on first use, not with the page.
    const { importTorchFiles } = await import('../../client/runs/torch-import.ts');
    await importTorchFiles(files);
    return;
  }
  // A packed sweep (JSON, from `merge --out`) has views of its own.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(heads[0]);
  if (looksLikePackedSweep(text) || (/\.json\.gz$/i.test(files[0].name) && heads[0][0] === 0x1f && heads[0][1] === 0x8b)) {
    await importSweepFile(files[0]);
    return;
  }
  // Other formats open one at a time, the first file; the kind is decided from its whole header
  // (src/files/import-file.ts), never from its first few kilobytes.
  await importFile(files[0]);
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
