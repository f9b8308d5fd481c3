/**
 * The first checkpoint after Train (issue #25): read at once, light, and before anything else is
 * measured, so the curves get their first points within a second of the press on the default page;
 * the heavy pass and §4's evidence come after it, and the cadence then adapts as before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { tinyConfig, useBackend } from '../helpers.ts';

describe('the first checkpoint after Train', () => {
  beforeAll(() => useBackend('wasm'));

  it('comes before any heavy pass or evidence, even when the heavy cadence is due', async () => {
    const events: WorkerEvent[] = [];
    // A clock that jumps 10 s a reading: the heavy pass's wait (≥ 2 s) has always passed.
    let clock = 0;
    const session = new TrainingSession({
      createTrainer: (c, init) => new Trainer(c, init),
      post: (e) => events.push(e),
      backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
      now: () => (clock += 10_000),
      durableCheckpoints: true,
    });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 40 }), backend: null });
    const built = events.length;
    // The epoch-0 heavy pass asked for the live evidence: it must wait for the first checkpoint.
    expect(events.some((e) => e.type === 'heavy')).toBe(true);
    await session.handle({ type: 'start' });
    await session.idle();
    const after = events.slice(built);
    const firstCheckpoint = after.findIndex((e) => e.type === 'checkpoint');
    expect(firstCheckpoint).toBeGreaterThan(-1);
    const cp = after[firstCheckpoint] as Extract<WorkerEvent, { type: 'checkpoint' }>;
    expect(cp.checkpoint.epoch).toBe(1);
    // Nothing measured before it; its durable state came just before it.
    const before = after.slice(0, firstCheckpoint).map((e) => e.type);
    expect(before).not.toContain('heavy');
    expect(before).not.toContain('evidence');
    expect(before).toContain('checkpointState');
    // The heavy pass and the evidence did come, later in the run.
    const later = after.slice(firstCheckpoint + 1);
    expect(later.some((e) => e.type === 'heavy' && e.latest)).toBe(true);
    expect(later.some((e) => e.type === 'evidence')).toBe(true);
    // The run still reached its end with every checkpoint in order.
    const epochs = after.filter((e): e is Extract<WorkerEvent, { type: 'checkpoint' }> => e.type === 'checkpoint').map((e) => e.checkpoint.epoch);
    expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
    expect(epochs.at(-1)).toBe(40);
    session.dispose();
  });

  it('a run just built lets a Train come before the evidence the page asked for, and answers it anyway', async () => {
    const make = () => {
      const events: WorkerEvent[] = [];
      const session = new TrainingSession({
        createTrainer: (c, init) => new Trainer(c, init),
        post: (e) => events.push(e),
        backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
      });
      return { events, session };
    };
    const answers = (events: WorkerEvent[]) => events.filter((e) => e.type === 'evidence' && e.answer);
    const request = { epoch: null, ablations: [], pair: null };
    // Train pressed just after the page asked: the first checkpoint comes first.
    const a = make();
    await a.session.handle({ type: 'init', config: tinyConfig({ epochs: 20 }), backend: null });
    await a.session.handle({ type: 'evidence', request });
    expect(answers(a.events)).toHaveLength(0);
    await a.session.handle({ type: 'start' });
    await a.session.idle();
    const firstCheckpoint = a.events.findIndex((e) => e.type === 'checkpoint' && e.checkpoint.epoch > 0);
    const firstAnswer = a.events.findIndex((e) => e.type === 'evidence' && e.answer);
    expect(firstCheckpoint).toBeGreaterThan(-1);
    expect(firstAnswer).toBeGreaterThan(firstCheckpoint);
    a.session.dispose();
    // Nothing pressed: the answer comes after the grace.
    const b = make();
    await b.session.handle({ type: 'init', config: tinyConfig({ epochs: 20 }), backend: null });
    await b.session.handle({ type: 'evidence', request });
    const t0 = Date.now();
    while (answers(b.events).length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    expect(answers(b.events)).toHaveLength(1);
    await b.session.idle();
    b.session.dispose();
  });

  it('pressed while the run is built: epoch 0 and epoch 1 come first, the heavy pass after them', async () => {
    const events: WorkerEvent[] = [];
    const session = new TrainingSession({
      createTrainer: (c, init) => new Trainer(c, init),
      post: (e) => events.push(e),
      backendInfo: () => ({ name: 'wasm', adapter: 'test', requested: null, skipped: [] }),
      durableCheckpoints: true,
    });
    // Train queued behind the build, as the page sends it when pressed at the first paint.
    void session.handle({ type: 'init', config: tinyConfig({ epochs: 60 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const kinds = events.filter((e) => e.type === 'checkpoint' || e.type === 'heavy').map((e) => (e.type === 'checkpoint' ? `c${e.checkpoint.epoch}` : 'heavy'));
    expect(kinds.slice(0, 2)).toEqual(['c0', 'c1']);
    expect(kinds).toContain('heavy');
    expect(events.filter((e) => e.type === 'status').map((e) => (e as { status: string }).status).at(-1)).toBe('done');
    session.dispose();
  });
});
