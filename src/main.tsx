import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startAddress } from './client/address.ts';
import { benchWorker, commands, debugWorker } from './client/client.ts';
import { startEvidenceRequests } from './client/evidence.ts';
import { startLlcRequests } from './client/llc.ts';
import { useLlcStore } from './store/llc.ts';
import { useSequenceStore } from './store/sequence.ts';
import { ensureIsolation } from './client/isolation.ts';
import { startPersistence } from './client/storage/persistence.ts';
import { openReferenceRun } from './client/runs/run-files.ts';
import { restoreKeptSweep } from './client/sweep/sweep.ts';
import { decodeQuery } from './config/url.ts';
import { useEvidenceStore } from './store/evidence.ts';
import { useAppStore } from './store/store.ts';
import { useSweepStore } from './store/sweep.ts';
import { encodeSweep } from './config/sweep.ts';
import { App } from './ui/App.tsx';
import './ui/styles/base.css';
import './ui/styles/layout.css';
import './ui/styles/explorable.css';
import './ui/styles/panels.css';
import './ui/styles/evidence.css';
import './ui/styles/time.css';
import './ui/styles/sweep.css';

function boot(): void {
  const decoded = decodeQuery(window.location.search);
  useAppStore.getState().loadUrl(decoded);
  useEvidenceStore.getState().loadUrl(decoded);
  if (decoded.sweep) useSweepStore.getState().setText(encodeSweep(decoded.sweep));
  if (decoded.appendix) useSequenceStore.getState().choose(decoded.appendix);
  startAddress(decoded);

  commands.init();
  startEvidenceRequests();
  startLlcRequests(decoded.llc);
  startPersistence({ offerResume: decoded.run === null });
  if (decoded.run) void openReferenceRun(decoded.run);
  void restoreKeptSweep();

  // A read-only handle for tests and the curious (e.g. the browser console).
  (window as unknown as { grokscope: unknown }).grokscope = { store: useAppStore, evidence: useEvidenceStore, sweep: useSweepStore, llc: useLlcStore, sequence: useSequenceStore, debug: debugWorker, bench: benchWorker };

  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// Isolation first: on a static host its first visit reloads once, before any run exists.
void ensureIsolation().then((isolation) => {
  if (isolation !== 'reloading') boot();
});
