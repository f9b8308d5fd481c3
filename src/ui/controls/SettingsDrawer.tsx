/**
 * On a one-column screen the experiment form, the speed panel and the saved runs fold into a
 * drawer, so Train, the live settings and the views come first; on wider screens they show as is.
 */
import type { ReactNode } from 'react';
import { ONE_COLUMN_QUERY, useMedia } from '../plot/useNarrow.ts';

export function SettingsDrawer({ children }: { children: ReactNode }) {
  const oneColumn = useMedia(ONE_COLUMN_QUERY);
  if (!oneColumn) return <>{children}</>;
  return (
    <details className="drawer panel" data-testid="settings-drawer">
      <summary>Experiment, speed and saved runs</summary>
      <div className="drawer-body">{children}</div>
    </details>
  );
}
