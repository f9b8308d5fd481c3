/** Title, the backend in use with its device, and the Share button. */
import { useState } from 'react';
import { useAppStore } from '../../store/store.ts';
import { describeChoice } from './describe-backend.ts';

export function Header() {
  const backend = useAppStore((s) => s.backend);
  const inHand = useAppStore((s) => s.backendInHand);
  return (
    <header className="header">
      <div className="brand">
        <h1>grokscope</h1>
        <p className="tagline">Watch a transformer grok modular addition, live, on your own GPU.</p>
      </div>
      <div className="header-right">
        <span className={`backend-badge ${backend?.name ?? 'pending'}`} data-testid="backend" title={backend ? [describeChoice(backend), ...backend.skipped].join('\n') : 'Timing the backends this browser offers on a few updates, to train on the fastest'}>
          {backend ? (
            <>
              <strong data-testid="backend-name">{backend.name}</strong>
              <span className="adapter" data-testid="backend-adapter">
                {backend.adapter}
              </span>
            </>
          ) : inHand ? (
            `${inHand.name} while the fastest backend is chosen…`
          ) : (
            'choosing the fastest backend…'
          )}
        </span>
        <ShareButton />
      </div>
    </header>
  );
}

function ShareButton() {
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  const share = async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      setState('copied');
      setTimeout(() => setState('idle'), 2000);
    } catch {
      setState('manual');
    }
  };
  return (
    <div className="share">
      <button type="button" onClick={share} data-testid="share" title="Copy a link that restores this configuration">
        {state === 'copied' ? 'Link copied' : 'Share'}
      </button>
      {state === 'manual' && (
        <input
          className="share-url"
          readOnly
          aria-label="Link to this configuration; copy it"
          value={window.location.href}
          onFocus={(e) => e.currentTarget.select()}
          autoFocus
          onBlur={() => setState('idle')}
        />
      )}
    </div>
  );
}
