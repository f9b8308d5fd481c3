import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { benchWorker, commands, debugWorker } from './client/client.ts';
import { startPersistence } from './client/persistence.ts';
import { openReferenceRun } from './client/run-files.ts';
import { decodeQuery, encodeQuery } from './config/url.ts';
import { useAppStore } from './store/store.ts';
import { App } from './ui/App.tsx';
import './ui/styles/base.css';
import './ui/styles/layout.css';
import './ui/styles/explorable.css';
import './ui/styles/panels.css';

/** URL writes are debounced: dragging a slider would otherwise hit the browser's history rate limit. */
const URL_WRITE_DELAY_MS = 150;

const decoded = decodeQuery(window.location.search);
useAppStore.getState().loadUrl(decoded);

let urlTimer: ReturnType<typeof setTimeout> | undefined;
useAppStore.subscribe(
  (s) => [s.draft, s.preset, s.backendRequest, s.keyFreqsRequest] as const,
  ([config, preset, backend, keyFreqs]) => {
    clearTimeout(urlTimer);
    urlTimer = setTimeout(() => {
      const query = encodeQuery({ config, preset, backend, keyFreqs });
      const url = `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`;
      window.history.replaceState(null, '', url);
    }, URL_WRITE_DELAY_MS);
  },
  { equalityFn: (a, b) => a.every((x, i) => x === b[i]) },
);

commands.init();
startPersistence({ offerResume: decoded.run === null });
if (decoded.run) void openReferenceRun(decoded.run);

// A read-only handle for tests and the curious (e.g. the browser console).
(window as unknown as { grokscope: unknown }).grokscope = { store: useAppStore, debug: debugWorker, bench: benchWorker };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
