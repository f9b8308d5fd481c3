/**
 * Which run a 'ready' is (#16): a saved run sent to load while the page's first, fresh run is still
 * being built waits for that build, so the fresh run's 'ready' comes first. It must stay a new run
 * (no key), and the loaded run's 'ready' must take the saved run's key — otherwise the fresh run
 * saves over the saved one, and the resumed one saves as a second copy.
 */
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it, vi } from 'vitest';

describe("persistence: a 'ready' adopts the load it belongs to", () => {
  let persistence: typeof import('../../src/client/storage/persistence.ts');
  let store: typeof import('../../src/store/store.ts');
  beforeAll(async () => {
    vi.stubGlobal('document', { addEventListener() {}, visibilityState: 'visible' });
    vi.stubGlobal('window', { addEventListener() {} });
    vi.stubGlobal('navigator', {}); // Node 20 has none; persistence asks it for the storage estimate
    persistence = await import('../../src/client/storage/persistence.ts');
    store = await import('../../src/store/store.ts');
    persistence.startPersistence({ offerResume: false });
  });

  it('keeps the fresh run keyless when its ready arrives after a load was asked for, then gives the loaded run its key', () => {
    const { useAppStore } = store;
    persistence.expectLoad({ key: 'saved-run', name: 'my first grok', snapshots: [10, 20], fileEpoch: 30 });
    useAppStore.setState({ readyCount: useAppStore.getState().readyCount + 1, readyLoaded: false });
    expect(useAppStore.getState().currentRunKey).toBeNull();
    useAppStore.setState({ readyCount: useAppStore.getState().readyCount + 1, readyLoaded: true });
    expect(useAppStore.getState().currentRunKey).toBe('saved-run');
    expect(useAppStore.getState().currentRunName).toBe('my first grok');
  });

  it('makes a reset after a loaded run a new run again', () => {
    const { useAppStore } = store;
    useAppStore.setState({ readyCount: useAppStore.getState().readyCount + 1, readyLoaded: false });
    expect(useAppStore.getState().currentRunKey).toBeNull();
  });
});
