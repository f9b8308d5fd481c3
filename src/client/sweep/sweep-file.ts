/**
 * Shows a packed sweep (src/files/packed-sweep.ts reads it, in the import worker) in the page's
 * sweep views: small multiples and the phase diagram of every finished run. A packed sweep holds
 * each run's history, not its weights, so its runs are shown, not opened (a run's record file,
 * from `sweep --record`, opens with Import).
 */
import { decodeSweep, expandSweep } from '../../config/sweep.ts';
import { readPackedSweep, type PackedSweep } from '../../files/packed-sweep.ts';
import { formatInt } from '../../run/format.ts';
import { useAppStore } from '../../store/store.ts';
import { summarize, useSweepStore } from '../../store/sweep.ts';

/** Shows a packed sweep that was read and checked. Throws a message when a sweep is training. */
export function showPackedSweep(packed: PackedSweep, fileName = 'the file'): void {
  if (useSweepStore.getState().status === 'running') throw new Error('a sweep is training in the page; stop it first');
  const spec = decodeSweep(packed.sweep).spec!;
  const { points } = expandSweep(packed.base, spec);
  let epochs = 0;
  let every = 0;
  const done = packed.runs.map(({ index, history }) => {
    epochs = Math.max(epochs, history.at(-1)!.epoch);
    if (history.length > 1) every = history[1].epoch - history[0].epoch;
    const rows = history.map(({ epoch, trainLoss, testLoss, trainAcc, testAcc }) => ({ epoch, trainLoss, testLoss, trainAcc, testAcc }));
    return { index, rows, summary: summarize(history) };
  });
  const dup = packed.duplicates > 0 ? ` (${formatInt(packed.duplicates)} repeated ${packed.duplicates === 1 ? 'entry' : 'entries'} of runs already listed left out)` : '';
  useSweepStore.getState().setText(packed.sweep);
  useSweepStore.getState().begin(spec, packed.base, points, epochs, every);
  const what = packed.note ? `${packed.note}; loss curves only: no weights to open` : 'histories only: a run opens from its record file, sweep --record';
  useSweepStore.getState().restore(done, `${done.length} of ${points.length} runs from ${fileName.slice(0, 80)}${dup} (${what}).`);
  useAppStore.getState().notify('info', `Opened the sweep ${packed.sweep} from ${fileName.slice(0, 80)}: ${done.length} of ${points.length} runs${dup}, in “Many runs”.`);
}

/** Reads, checks and shows a packed sweep's text (the page reads files in its import worker). */
export function openPackedSweep(text: string, fileName = 'the file'): void {
  if (useSweepStore.getState().status === 'running') throw new Error('a sweep is training in the page; stop it first');
  showPackedSweep(readPackedSweep(text), fileName);
}
