/** Terminal progress: a redrawn bar on a TTY, one line per checkpoint otherwise. */
import { formatDuration, formatPercent, formatRate, formatValue } from '../../run/format.ts';
import type { Checkpoint } from '../../run/history-columns.ts';

const BAR_WIDTH = 28;

export class ProgressReporter {
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  progress(epoch: number, epochsPerSec: number, loss: number): void {
    if (this.quiet || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && epoch < this.total) return;
    this.lastDraw = now;
    const frac = Math.min(epoch / this.total, 1);
    const filled = Math.round(frac * BAR_WIDTH);
    const eta = epochsPerSec > 0 ? formatDuration((this.total - epoch) / epochsPerSec) : '–';
    const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${epoch}/${this.total}  ${formatRate(epochsPerSec)} ep/s  ETA ${eta}  loss ${formatValue(loss)}`;
    this.out.write(`\r${line.padEnd(100)}`);
  }

  checkpoint(c: Checkpoint): void {
    if (this.quiet) return;
    const line = `epoch ${c.epoch}: train loss ${formatValue(c.trainLoss)}, test loss ${formatValue(c.testLoss)}, train acc ${formatPercent(c.trainAcc)}, test acc ${formatPercent(c.testAcc)}`;
    if (this.tty) this.out.write(`\r${line.padEnd(100)}\n`);
    else this.out.write(`${line}\n`);
  }

  done(): void {
    if (!this.quiet && this.tty) this.out.write('\n');
  }
}
