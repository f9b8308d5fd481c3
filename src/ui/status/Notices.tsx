/**
 * Messages the person must see: problems in the link they opened, worker errors, and which
 * backend runs when it is not WebGPU. Text is rendered as text, never as HTML.
 */
import { useState } from 'react';
import { dismissResume } from '../../client/storage/persistence.ts';
import { openRecording } from '../../client/runs/recording.ts';
import { acceptResume } from '../../client/runs/run-files.ts';
import { describeIssue } from '../../config/schema.ts';
import { useAppStore } from '../../store/store.ts';
import { useShallow } from 'zustand/react/shallow';
import { backendAdvice } from './backend-advice.ts';
import { describeChoice } from './describe-backend.ts';
import { switchToQuick } from '../controls/GrokEstimate.tsx';
import { formatAgo } from '../runs/RunsPanel.tsx';

export function Notices() {
  const urlIssues = useAppStore((s) => s.urlIssues);
  const notices = useAppStore((s) => s.notices);
  const dismiss = useAppStore((s) => s.dismiss);
  const backend = useAppStore((s) => s.backend);
  const [urlDismissed, setUrlDismissed] = useState(false);
  const backendRequest = useAppStore((s) => s.backendRequest);
  const noWebGpu = backend !== null && backend.name !== 'webgpu';
  // A backend the link asks for is known at the first paint: its line is there from the start,
  // in the page's flow (nothing moves when the worker confirms it).
  const asked = backendRequest !== null && backendRequest !== 'webgpu' && (backend === null || backend.name === backendRequest);
  const resumeOffer = useAppStore((s) => s.resumeOffer);
  const [backendDismissed, setBackendDismissed] = useState(false);
  return (
    <div className="notices" aria-live="polite">
      {resumeOffer?.openElsewhere && (
        <div className="notice info" data-testid="resume-offer">
          Your run <strong>{resumeOffer.name}</strong> (epoch {resumeOffer.epoch.toLocaleString('en-US')}) is training in another tab of this browser; it
          is saved there. <button type="button" onClick={() => void acceptResume(resumeOffer, { copy: true })} data-testid="resume-copy">
            Open a copy here
          </button>{' '}
          <button type="button" onClick={dismissResume} data-testid="resume-dismiss">
            Start fresh
          </button>
        </div>
      )}
      {resumeOffer && !resumeOffer.openElsewhere && (
        <div className="notice info" data-testid="resume-offer">
          You have an unfinished run, <strong>{resumeOffer.name}</strong>, at epoch {resumeOffer.epoch.toLocaleString('en-US')} (saved {formatAgo(resumeOffer.updatedAt)}).{' '}
          <button type="button" onClick={() => void acceptResume(resumeOffer)} data-testid="resume-accept">
            Resume it
          </button>{' '}
          <button type="button" onClick={dismissResume} data-testid="resume-dismiss">
            Start fresh
          </button>
        </div>
      )}
      {urlIssues.length > 0 && !urlDismissed && (
        <div className="notice warning" role="alert" data-testid="url-issues">
          <button type="button" className="close" aria-label="Dismiss" onClick={() => setUrlDismissed(true)}>
            ×
          </button>
          <strong>Some parameters in this link were not valid; defaults are used instead:</strong>
          <ul>
            {urlIssues.map((issue, i) => (
              <li key={i}>
                <code>{issue.key}</code>: {describeIssue(issue)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {asked && (
        <div className="notice info" data-testid="backend-notice">
          Training on <strong>{backendRequest}</strong> as the link asks (<code>?backend={backendRequest}</code>).
        </div>
      )}
      {noWebGpu && !asked && !backendDismissed && <BackendNotice onDismiss={() => setBackendDismissed(true)} />}
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.level}`} role={n.level === 'error' ? 'alert' : 'status'} data-testid={`notice-${n.level}`}>
          <button type="button" className="close" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
          {n.text}
        </div>
      ))}
    </div>
  );
}

/**
 * Which backend trains when it is not WebGPU: one line that opens on a tap (a phone's first
 * screen is not a 12-line notice), with what to do inside; its offers follow the state. It comes
 * when the timing ends, seconds after the first paint, so it floats over the page instead of
 * pushing it down under the cursor (#25).
 */
function BackendNotice({ onDismiss }: { onDismiss: () => void }) {
  const backend = useAppStore((s) => s.backend)!;
  const advice = useAppStore(useShallow(backendAdvice));
  const [open, setOpen] = useState(false);
  // WebGPU started but was timed slower, or it did not start (and why).
  const webgpuTimed = backend.measured?.find((m) => m.name === 'webgpu');
  const webgpuSkip = backend.skipped.find((x) => x.startsWith('webgpu: '));
  return (
    <div className={`notice floating warning backend-notice${open ? ' open' : ''}`} data-testid="backend-notice">
      <button type="button" className="close" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
      <button type="button" className="notice-line" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="backend-notice-toggle">
        <span className="notice-line-text">
          <strong>{webgpuTimed ? `WebGPU is slower here than ${backend.name}` : 'WebGPU is not available here'}</strong>: training runs on {backend.name}, far slower
          than a GPU.
        </span>
        <span className="notice-more">{open ? 'Less ▴' : 'What to do ▾'}</span>
      </button>
      {open && (
        <p className="notice-body">
          {webgpuTimed ? (
            <>
              WebGPU runs here on {webgpuTimed.adapter}, {webgpuTimed.software ? 'a GPU emulated on the CPU, ' : ''}slower than {backend.name} on this machine (
              {describeChoice(backend)}).{' '}
            </>
          ) : (
            webgpuSkip && <>WebGPU did not start ({webgpuSkip.replace(/^webgpu: /, '')}). </>
          )}
          Training runs on <strong>{backend.name}</strong> ({backend.adapter}): the mainline run can take hours.{' '}
          {advice.onQuick ? (
            <>This is the quick preset: the whole story in under 2k epochs. </>
          ) : (
            <>
              Try the{' '}
              <button type="button" className="link" onClick={switchToQuick} data-testid="notice-quick">
                quick preset
              </button>{' '}
              (the whole story in under 2k epochs).{' '}
            </>
          )}
          Or open this page in a browser with WebGPU (recent Chrome or Edge)
          {advice.offerRecorded ? (
            <>
              , or{' '}
              <button type="button" className="link" onClick={() => openRecording('reference', (m) => window.confirm(m))} data-testid="offer-reference">
                explore a recorded grokking run
              </button>{' '}
              without training.
            </>
          ) : (
            '.'
          )}
        </p>
      )}
    </div>
  );
}
