import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { benchWorker, commands, debugWorker } from './client/client.ts';
import { openReferenceRun, startPersistence } from './client/persistence.ts';
import { startEvidenceRequests } from './client/evidence.ts';
import { decodeQuery, encodeQuery } from './config/url.ts';
import { useEvidenceStore } from './store/evidence.ts';
import { useAppStore } from './store/store.ts';
import { App } from './ui/App.tsx';
import './ui/styles/base.css';
import './ui/styles/layout.css';
import './ui/styles/explorable.css';
import './ui/styles/panels.css';
import './ui/styles/evidence.css';

/** URL writes are debounced: dragging a slider would otherwise hit the browser's history rate limit. */
const URL_WRITE_DELAY_MS = 150;

const decoded = decodeQuery(window.location.search);
useAppStore.getState().loadUrl(decoded);
useEvidenceStore.getState().loadUrl(decoded);

let urlTimer: ReturnType<typeof setTimeout> | undefined;
const writeUrl = () => {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    const s = useAppStore.getState();
    const { ablations, pair } = useEvidenceStore.getState();
    const query = encodeQuery({ config: s.draft, preset: s.preset, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest, ablations, pair });
    const url = `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`;
    window.history.replaceState(null, '', url);
  }, URL_WRITE_DELAY_MS);
};
useAppStore.subscribe((s) => [s.draft, s.preset, s.backendRequest, s.keyFreqsRequest] as const, writeUrl, { equalityFn: (a, b) => a.every((x, i) => x === b[i]) });
useEvidenceStore.subscribe((s) => [s.ablations, s.pair] as const, writeUrl, { equalityFn: (a, b) => a[0] === b[0] && a[1] === b[1] });

commands.init();
startEvidenceRequests();
startPersistence({ offerResume: decoded.run === null });
if (decoded.run) void openReferenceRun(decoded.run);

// A read-only handle for tests and the curious (e.g. the browser console).
(window as unknown as { grokscope: unknown }).grokscope = { store: useAppStore, evidence: useEvidenceStore, debug: debugWorker, bench: benchWorker };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
