/** How the page words the choice of a backend (pure; tested). */
import type { BackendInfo } from '../../config/backends.ts';
import { formatRate } from '../../run/format.ts';

/** "wasm 4.9 epochs/s, webgl 0.2: chose wasm" — what the Speed panel says about the choice. */
export function describeChoice(info: BackendInfo): string {
  const measured = info.measured ?? [];
  const parts = measured.map((m) => (Number.isFinite(m.epochsPerSec) ? `${m.name} ${m.atMost ? '≤ ' : ''}${formatRate(m.epochsPerSec)} epochs/s` : `${m.name} not timed`));
  switch (info.chosenBy) {
    case 'request':
      return `${info.name}, as the link asks (?backend=${info.name})`;
    case 'measurement':
      return `${parts.join(', ')}: chose ${info.name}`;
    case 'provisional':
      return `${info.name} while the backends are timed`;
    case 'cache':
      return `${parts.join(', ')} (timed on an earlier visit): chose ${info.name}`;
    default:
      return `${info.name}, the first backend that started`;
  }
}
