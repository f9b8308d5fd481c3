/** Media queries as React state, following rotation and resizes. */
import { useCallback, useSyncExternalStore } from 'react';

/** Phone-sized: heatmap grids wrap to two columns. */
export const NARROW_QUERY = '(max-width: 700px)';
/** One column: the sidebar's settings fold into a drawer (matches the CSS breakpoint). */
export const ONE_COLUMN_QUERY = '(max-width: 900px)';

export function useMedia(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      const mq = window.matchMedia(query);
      mq.addEventListener('change', onChange);
      return () => mq.removeEventListener('change', onChange);
    },
    [query],
  );
  return useSyncExternalStore(subscribe, () => window.matchMedia(query).matches);
}
