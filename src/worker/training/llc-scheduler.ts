/**
 * The LLC over training (README "Beyond the paper"): estimates the local learning coefficient of
 * the run's weight snapshots on a cadence of its own, never blocking training. While training
 * runs it takes a few SGLD draws between blocks, at most `share` of the wall time (TimeShare);
 * while nothing trains (paused, done, a recording on show) it runs at full speed, yielding to
 * commands between chunks. Which snapshot next: the newest not yet estimated, else the one
 * farthest from every estimated one (so a recording's curve takes its shape early). A change of
 * settings or a new run drops the estimate in flight and everything it holds.
 */
import { LlcChains } from '../../analysis/llc.ts';
import { snapshotLlcModel } from '../../analysis/llc-model.ts';
import { LLC_SHARE, resolveLlcSettings, sameLlcSettings, type LlcPoint, type LlcSchedule, type LlcSeries } from '../../config/llc.ts';
import type { RunContext } from './run-context.ts';

/** Draws between two blocks aim at this long, so the page still hears from training a few times a second. */
export const LLC_CHUNK_MS = 60;
/** While nothing trains: longer chunks, still short enough for a command to get in between. */
export const LLC_IDLE_CHUNK_MS = 250;

/**
 * At most `share` of the wall time: after a chunk of c ms, the next waits c·(1 − share)/share, so
 * every chunk with the pause after it is at most `share` busy.
 */
export class TimeShare {
  private nextAt = -Infinity;
  constructor(public share: number) {}

  due(now: number): boolean {
    return now >= this.nextAt;
  }

  took(start: number, end: number): void {
    const ms = Math.max(0, end - start);
    this.nextAt = end + (ms * (1 - this.share)) / this.share;
  }

  reset(): void {
    this.nextAt = -Infinity;
  }
}

/** The snapshot to estimate next, or null when every one is estimated. */
export function nextLlcEpoch(epochs: readonly number[], estimated: ReadonlySet<number>): number | null {
  if (epochs.length === 0) return null;
  if (!estimated.has(epochs[epochs.length - 1])) return epochs[epochs.length - 1];
  const done = epochs.map((e, i) => (estimated.has(e) ? i : -1)).filter((i) => i >= 0);
  let best: number | null = null;
  let bestGap = 0;
  epochs.forEach((e, i) => {
    if (estimated.has(e)) return;
    const gap = Math.min(...done.map((j) => Math.abs(i - j)));
    if (gap > bestGap) [best, bestGap] = [e, gap];
  });
  return best;
}

const ema = (prev: number, sample: number) => (Number.isFinite(prev) ? 0.7 * prev + 0.3 * sample : sample);
const sameSchedule = (a: LlcSchedule | null, b: LlcSchedule | null) => JSON.stringify(a) === JSON.stringify(b);

interface InFlight {
  epoch: number;
  chains: LlcChains;
  model: { dispose(): void };
}

export class LlcScheduler {
  private schedule: LlcSchedule | null = null;
  readonly share = new TimeShare(LLC_SHARE);
  private readonly estimated = new Set<number>();
  private current: InFlight | null = null;
  private msPerDraw = NaN;
  private background: Promise<void> | null = null;
  private busy: Promise<boolean> | null = null;
  /** Bumped by a change of settings and by dispose: a chunk in flight for an older one drops its work. */
  private version = 0;
  /** Estimates this run has (made here, or brought by its run file or the run it moved from). */
  private series: LlcSeries | null = null;

  constructor(private readonly run: RunContext) {}

  /** The page's schedule (null: off). A change drops the estimate in flight and starts the curve again. */
  set(schedule: LlcSchedule | null): void {
    if (sameSchedule(schedule, this.schedule)) return;
    this.schedule = schedule;
    this.version += 1;
    this.share.share = schedule?.share ?? LLC_SHARE;
    this.share.reset();
    this.drop();
    this.estimated.clear();
    this.adopt();
    this.startBackground();
  }

  /** Estimates already made (a run file's, or the run's before it moved backend): not made again at the same settings. */
  restore(series: LlcSeries | null | undefined): void {
    this.series = series ?? null;
    this.adopt();
  }

  /** What this run has estimated, at which settings. */
  estimates(): LlcSeries | null {
    return this.series;
  }

  private adopt(): void {
    if (!this.schedule || !this.series) return;
    const settings = resolveLlcSettings(this.schedule.settings, this.run.trainer.dataset.train.length);
    if (sameLlcSettings(settings, this.series.settings)) for (const p of this.series.points) this.estimated.add(p.epoch);
  }

  get on(): boolean {
    return this.schedule !== null && this.run.analysis !== null;
  }

  /** Between training blocks: a chunk of draws, if the time share allows. */
  async betweenBlocks(): Promise<void> {
    if (!this.on || this.busy || !this.share.due(this.run.now())) return;
    await this.chunk(LLC_CHUNK_MS);
  }

  /** While nothing trains: estimate at full speed until every snapshot is. */
  startBackground(): void {
    if (!this.on || this.background) return;
    const idle = () => this.run.current() && this.on && !['running', 'starting', 'error'].includes(this.run.status());
    if (!idle()) return;
    this.background = (async () => {
      while (idle()) {
        if (!(await this.chunk(LLC_IDLE_CHUNK_MS))) return;
        await this.run.yieldToEvents();
      }
    })()
      .catch((err) => this.run.fail(err))
      .finally(() => {
        this.background = null;
      });
  }

  /** Resolves when no chunk is in flight and the background loop has stopped. */
  async idle(): Promise<void> {
    await this.background;
    await this.busy;
  }

  /** The run is replaced: free the estimate in flight (a chunk still reading drops its result). */
  dispose(): void {
    this.version += 1;
    this.schedule = null;
    this.drop();
  }

  private drop(): void {
    this.current?.chains.dispose();
    this.current?.model.dispose();
    this.current = null;
  }

  /** One chunk of work; false when there was nothing to do. */
  private chunk(targetMs: number): Promise<boolean> {
    if (this.busy) return this.busy;
    const t0 = this.run.now();
    this.busy = this.work(targetMs).finally(() => {
      this.busy = null;
      this.share.took(t0, this.run.now());
    });
    return this.busy;
  }

  private async work(targetMs: number): Promise<boolean> {
    const { analysis, trainer } = this.run;
    const schedule = this.schedule;
    if (!schedule || !analysis) return false;
    const version = this.version;
    const stale = () => {
      if (this.run.current() && version === this.version) return false;
      if (version === this.version) this.drop();
      return true;
    };
    if (!this.current) {
      const epoch = nextLlcEpoch(analysis.snapshots.epochs(), this.estimated);
      const snap = epoch === null ? null : analysis.snapshots.atOrBefore(epoch);
      if (epoch === null || !snap) return false;
      const model = snapshotLlcModel(trainer, snap.weights);
      let chains: LlcChains;
      try {
        chains = new LlcChains(model, schedule.settings);
      } catch (err) {
        model.dispose();
        this.schedule = null;
        this.run.post({ type: 'error', runId: this.run.id, fatal: false, message: `LLC over training stopped: ${err instanceof Error ? err.message : String(err)}` });
        return false;
      }
      this.current = { epoch, chains, model };
      await chains.start();
      if (stale()) return false;
    } else {
      const { chains } = this.current;
      const n = Number.isFinite(this.msPerDraw) ? Math.max(1, Math.floor(targetMs / this.msPerDraw)) : 1;
      const s0 = this.run.now();
      const took = chains.step(n);
      await chains.read();
      if (stale()) return false;
      this.msPerDraw = ema(this.msPerDraw, (this.run.now() - s0) / Math.max(took, 1));
    }
    const c = this.current!;
    const { done, total } = c.chains;
    this.run.post({ type: 'llcProgress', runId: this.run.id, epoch: c.epoch, done, total });
    if (done < total) return true;
    const r = await c.chains.finish();
    if (stale()) return false;
    c.model.dispose();
    this.current = null;
    this.estimated.add(c.epoch);
    const estimate = { ...r, epoch: c.epoch, error: r.llcStd / Math.sqrt(r.settings.chains) };
    const point: LlcPoint = { epoch: c.epoch, llc: r.llc, error: estimate.error, settled: r.settled, seconds: r.seconds };
    const kept = this.series && sameLlcSettings(this.series.settings, r.settings) ? this.series.points.filter((p) => p.epoch !== c.epoch) : [];
    this.series = { settings: r.settings, points: [...kept, point].sort((a, b) => a.epoch - b.epoch) };
    this.run.post({ type: 'llc', runId: this.run.id, estimate });
    return true;
  }
}
