/**
 * The page's import of PyTorch files: one .pth (a checkpoint or a whole run) or several (the
 * authors' per-epoch files), checked completely before anything changes, then opened as a run.
 */
import { combineTorchRuns, readTorchRun } from '../../files/torch/import.ts';
import { torchRunData } from '../../files/torch-run.ts';
import { useAppStore } from '../../store/store.ts';
import { openImportedRun } from './run-files.ts';

/** Files larger than this are refused before they are read. */
export const MAX_TORCH_BYTES = 512 * 1024 * 1024;

export async function importTorchFiles(files: (Blob & { name: string })[]): Promise<void> {
  const names = files.map((f) => f.name).join(', ');
  try {
    const parts = [];
    for (const f of files) {
      if (f.size > MAX_TORCH_BYTES) throw new Error(`${f.name} is ${(f.size / 1e6).toFixed(0)} MB, more than the ${MAX_TORCH_BYTES / 1e6} MB allowed`);
      parts.push({ name: f.name, run: readTorchRun(new Uint8Array(await f.arrayBuffer()), f.name) });
    }
    const run = combineTorchRuns(parts);
    const name = files.length === 1 ? files[0].name : `${files.length} files: ${names.slice(0, 80)}`;
    const data = torchRunData(run, name);
    await openImportedRun(data, `Read ${run.description}. Split: ${run.splitSource}. ${data.history.length > 0 ? `Loss curves: ${data.history.length} rows. ` : ''}The views at each snapshot are measured when you scrub to it.`);
  } catch (err) {
    useAppStore.getState().notify('error', `This PyTorch file cannot be opened (${names.slice(0, 120)}): ${err instanceof Error ? err.message : String(err)}. Your runs are unchanged.`);
  }
}
