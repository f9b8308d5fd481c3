/**
 * Opening a recording laid out in pieces (src/files/recording.ts) from a static host: the manifest
 * and the head (config, history, the last snapshot) first, so the curves draw at once; then the
 * other snapshots one by one, the missing one nearest the scrubber (or Play) first, each an HTTP
 * Range request into the pieces file. A server that ignores Range (200, not 206) sends the whole
 * file instead: it is read as a stream, each snapshot handed over as soon as its bytes are in. A
 * damaged or missing piece is named; the run stays open with what it has.
 */
import { checkManifest, nextPiece, readPiece, type RecordingManifest, type RecordingPiece } from '../../files/recording.ts';
import type { RunData, RunSnapshot } from '../../files/run-file.ts';
import { useAppStore } from '../../store/store.ts';
import { addSnapshots } from '../client.ts';
import { saveAllSnapshotsNext } from '../storage/persistence.ts';

const store = () => useAppStore.getState();

/** How long after the curves are on show the snapshots start to load unasked. */
export const PIECES_AFTER_MS = 2000;

/** Resolves once `cond` holds of the store (or after `timeoutMs`). */
function until(cond: () => boolean, timeoutMs = Infinity): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      unsubscribe();
      clearTimeout(timer);
      resolve();
    };
    const unsubscribe = useAppStore.subscribe(() => {
      if (cond()) done();
    });
    const timer = Number.isFinite(timeoutMs) ? setTimeout(done, timeoutMs) : undefined;
    if (cond()) done();
  });
}

/** Fetches the manifest and the head's bytes (the caller reads and opens the head run). */
export async function fetchRecordingHead(manifestUrl: URL): Promise<{ manifest: RecordingManifest; head: Uint8Array }> {
  const res = await fetch(manifestUrl);
  if (!res.ok) throw new Error(`the server answered ${res.status} for the recording's manifest`);
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new Error("the recording's manifest is not valid JSON");
  }
  const manifest = checkManifest(raw);
  const head = await fetch(new URL(manifest.head, manifestUrl));
  if (!head.ok) throw new Error(`the server answered ${head.status} for the recording's head file`);
  return { manifest, head: new Uint8Array(await head.arrayBuffer()) };
}

/** Whether the recording `key` is still the one on show (or being opened). */
function onShow(key: string): boolean {
  const s = store();
  return s.recording?.key === key || s.recordingRequest?.key === key;
}

function progress(key: string, snapshots: { loaded: number; total: number; failed: number }): void {
  useAppStore.setState({ recordingSnapshots: { key, ...snapshots } });
}

/**
 * Loads the snapshots of `manifest` that `head` lacks into the run on show, while it stays on show.
 * Resolves when every piece has arrived, failed, or the recording was replaced.
 */
export async function loadRecordingPieces(key: string, manifestUrl: URL, manifest: RecordingManifest, head: RunData): Promise<void> {
  const url = new URL(manifest.pieces, manifestUrl);
  const have = new Set(head.snapshots.map((s) => s.epoch));
  const pieces = manifest.snapshots.filter((p) => !have.has(p.epoch));
  const total = have.size + pieces.length;
  const failed: string[] = [];
  const tried = new Set<number>();
  const lastEpoch = head.history.at(-1)?.epoch ?? 0;
  // Failed: tried and not in hand; once done, every snapshot not in hand.
  const report = (done = false) => progress(key, { loaded: have.size, total, failed: done ? total - have.size : [...tried].filter((e) => !have.has(e)).length });
  const deliver = (piece: RecordingPiece, bytes: Uint8Array) => {
    tried.add(piece.epoch);
    let snap: RunSnapshot;
    try {
      snap = readPiece(manifest, piece, bytes);
    } catch (err) {
      failed.push(err instanceof Error ? err.message : String(err));
      return;
    }
    if (!onShow(key)) return;
    have.add(snap.epoch);
    addSnapshots([snap]);
    saveAllSnapshotsNext();
    report();
  };
  report();
  // The pieces wait until the curves are on show (the head, the page, its worker and the charts'
  // code come first), then until the scrubber moves or PIECES_AFTER_MS pass.
  await until(() => store().recordingRequest?.key !== key);
  await until(() => store().viewEpoch !== null, PIECES_AFTER_MS);
  try {
    while (onShow(key)) {
      const piece = nextPiece(pieces, tried, store().viewEpoch ?? lastEpoch);
      if (!piece) break;
      const res = await fetch(url, { headers: { Range: `bytes=${piece.offset}-${piece.offset + piece.length - 1}` } });
      if (res.status === 206) deliver(piece, new Uint8Array(await res.arrayBuffer()));
      else if (res.status === 200) {
        await streamWhole(res, pieces.filter((p) => !tried.has(p.epoch)), deliver, () => onShow(key));
        break;
      } else throw new Error(`the server answered ${res.status} for the recording's snapshots`);
    }
  } catch (err) {
    failed.push(err instanceof Error ? err.message : String(err));
  }
  for (const p of pieces) if (!tried.has(p.epoch) && !have.has(p.epoch) && onShow(key)) failed.push(`the snapshot at epoch ${p.epoch} did not arrive`);
  if (!onShow(key)) return;
  report(true);
  if (failed.length > 0) {
    store().notify('warning', `${total - have.size} of the recording's ${total} snapshots could not be loaded (${failed[0].slice(0, 160)}${failed.length > 1 ? `; and ${failed.length - 1} more` : ''}). The run stays open with the ${have.size} it has.`);
  }
}

/** Reads a whole pieces file as it streams in, handing over each wanted piece once its bytes are in. */
async function streamWhole(res: Response, wanted: RecordingPiece[], deliver: (p: RecordingPiece, bytes: Uint8Array) => void, keepOn: () => boolean): Promise<void> {
  const size = wanted.reduce((n, p) => Math.max(n, p.offset + p.length), 0);
  const buffer = new Uint8Array(size);
  const reader = res.body?.getReader();
  if (!reader) throw new Error('the recording\'s snapshots came without a body');
  let received = 0;
  let pending = [...wanted].sort((a, b) => a.offset - b.offset);
  while (pending.length > 0) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!keepOn()) {
      await reader.cancel();
      return;
    }
    buffer.set(value.subarray(0, Math.max(0, size - received)), received);
    received += value.length;
    const ready = pending.filter((p) => p.offset + p.length <= received);
    pending = pending.filter((p) => p.offset + p.length > received);
    for (const p of ready) deliver(p, buffer.subarray(p.offset, p.offset + p.length));
  }
  if (pending.length > 0) throw new Error(`the recording's snapshots file ended after ${received.toLocaleString('en-US')} bytes, before the snapshot at epoch ${pending[0].epoch}`);
  await reader.cancel().catch(() => undefined);
}
