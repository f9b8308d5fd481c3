import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../src/cli/node/progress.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';

describe('CLI progress lines', () => {
  it('print losses of 100 and more with their zeros (#21)', () => {
    const lines: string[] = [];
    const out = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    new ProgressReporter(1000, out).checkpoint({ epoch: 250, trainLoss: 100, testLoss: 960, trainAcc: 0.5, testAcc: 0.25 } as Checkpoint);
    expect(lines.join('')).toBe('epoch 250: train loss 100, test loss 960, train acc 50.0%, test acc 25.0%\n');
  });
});
