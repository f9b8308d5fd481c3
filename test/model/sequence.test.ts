import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequenceConfigFromFlags, sequenceSweepCommand, sequenceTaskOf, sequenceTrainCommand } from '../../src/cli/train-sequence.ts';
import { UsageError } from '../../src/cli/node/args.ts';
import { disposeSequenceTensors, initSequenceParams, sequenceForward, sequenceTensors } from '../../src/model/sequence/forward.ts';
import { SequenceTrainer, defaultSequenceConfig, repeatScores, specialAttention, type SequenceCheckpoint } from '../../src/model/sequence/trainer.ts';
import { SequenceStack, SequenceSweepTrainer, type SequenceSweepPoint } from '../../src/model/sequence/batched.ts';
import { Rng } from '../../src/random/rng.ts';
import { DIGITS5_ANSWER_START, DIGITS5_EQUALS, DIGITS5_PLUS, REPEAT_COPIES, REPEAT_LENGTH, SEQUENCE_TASKS, type SequenceBatch, type SequenceTaskName } from '../../src/task/sequence.ts';
import { useBackend } from '../helpers.ts';

beforeAll(() => useBackend('wasm'));

const number = (t: Int32Array, from: number, width: number) => Array.from(t.subarray(from, from + width)).reduce((x, d) => x * 10 + d, 0);
const counted = (b: SequenceBatch, r: number) => Array.from(b.weights.subarray(r * b.nCtx, (r + 1) * b.nCtx)).flatMap((w, i) => (w ? [i] : []));

describe('the appendix tasks (App. D.3): data', () => {
  it('digits5 reads a₁…a₅ + b₁…b₅ = c₁…c₆ and predicts each answer digit from the position before it', () => {
    const b = SEQUENCE_TASKS.digits5.sample(new Rng(1), 300);
    let carries = 0;
    for (let r = 0; r < b.n; r++) {
      const o = r * 18;
      expect(b.tokens[o + 5]).toBe(DIGITS5_PLUS);
      expect(b.tokens[o + 11]).toBe(DIGITS5_EQUALS);
      const a = number(b.tokens, o, 5);
      const c = number(b.tokens, o + 6, 5);
      expect(number(b.tokens, o + DIGITS5_ANSWER_START, 6)).toBe(a + c);
      if (a + c >= 100000) carries++;
      expect(counted(b, r)).toEqual([11, 12, 13, 14, 15, 16]);
      for (const i of counted(b, r)) expect(b.targets[o + i]).toBe(b.tokens[o + i + 1]);
    }
    // A sum of two uniform 5-digit numbers overflows to 6 digits about half the time.
    expect(carries / b.n).toBeGreaterThan(0.35);
    expect(carries / b.n).toBeLessThan(0.65);
  });

  it('repeat holds one 16-token subsequence three times and counts the predictable repeated tokens', () => {
    const b = SEQUENCE_TASKS.repeat.sample(new Rng(2), 100);
    for (let r = 0; r < b.n; r++) {
      const o = r * 85;
      const s = Array.from(b.copyStarts!.subarray(r * REPEAT_COPIES, (r + 1) * REPEAT_COPIES));
      expect(s[1] - s[0]).toBeGreaterThanOrEqual(REPEAT_LENGTH);
      expect(s[2] - s[1]).toBeGreaterThanOrEqual(REPEAT_LENGTH);
      expect(s[2] + REPEAT_LENGTH).toBeLessThanOrEqual(85);
      const copy = (k: number) => Array.from(b.tokens.subarray(o + s[k], o + s[k] + REPEAT_LENGTH));
      expect(copy(1)).toEqual(copy(0));
      expect(copy(2)).toEqual(copy(0));
      const want = [1, 2].flatMap((k) => Array.from({ length: REPEAT_LENGTH - 1 }, (_, j) => s[k] + j));
      expect(counted(b, r)).toEqual(want);
      for (const i of want) expect(b.targets[o + i]).toBe(b.tokens[o + i + 1]);
      for (let i = 0; i < 85; i++) expect(b.tokens[o + i]).toBeLessThan(128);
    }
  });

  it('skip3 has exactly one token ≥ 10, which is the answer at the last position', () => {
    const b = SEQUENCE_TASKS.skip3.sample(new Rng(3), 500);
    const where = new Array<number>(8).fill(0);
    for (let r = 0; r < b.n; r++) {
      const row = Array.from(b.tokens.subarray(r * 8, r * 8 + 8));
      const big = row.flatMap((t, i) => (t >= 10 ? [i] : []));
      expect(big).toHaveLength(1);
      where[big[0]]++;
      expect(row[big[0]]).toBeLessThan(20);
      expect(counted(b, r)).toEqual([7]);
      expect(b.targets[r * 8 + 7]).toBe(row[big[0]]);
    }
    for (const w of where) expect(w).toBeGreaterThan(20); // anywhere in the sequence
  });
});

describe('the appendix tasks: model and measures', () => {
  it('attention is causal: changing later tokens leaves earlier logits alone', () => {
    const spec = SEQUENCE_TASKS.digits5;
    const model = { ...spec.model, vocab: spec.vocab, vocabOut: spec.vocabOut, nCtx: spec.nCtx };
    const params = initSequenceParams(model, 0);
    const a = spec.sample(new Rng(4), 4);
    const b = { ...a, tokens: a.tokens.slice() };
    for (let r = 0; r < 4; r++) for (let i = 12; i < 18; i++) b.tokens[r * 18 + i] = (b.tokens[r * 18 + i] + 3) % 10;
    const [sa, sb] = [sequenceTensors(a, model), sequenceTensors(b, model)];
    const la = sequenceForward(params, model, sa).logits;
    const lb = sequenceForward(params, model, sb).logits;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(la, lb)), 2).arraySync() as number[][]);
    for (const row of diff) {
      for (let i = 0; i < 12; i++) expect(row[i]).toBe(0);
      expect(Math.max(...row.slice(12))).toBeGreaterThan(1e-4);
    }
    tf.dispose([la, lb, ...params.values()]);
    disposeSequenceTensors(sa);
    disposeSequenceTensors(sb);
  });

  it('the previous-token and induction scores read 1 for heads that do exactly that, and skip3 finds the token ≥ 10', () => {
    const b = SEQUENCE_TASKS.repeat.sample(new Rng(5), 3);
    const t = b.nCtx;
    // Head 0 attends to the previous token; head 1 to the token after the earlier occurrence (else itself).
    const layer = new Float32Array(b.n * 2 * t * t);
    const set = (r: number, h: number, q: number, k: number) => (layer[((r * 2 + h) * t + q) * t + k] = 1);
    for (let r = 0; r < b.n; r++) {
      const s = b.copyStarts!.subarray(r * 3, r * 3 + 3);
      const target = new Map<number, number>();
      for (let k = 1; k < 3; k++) for (let j = 0; j < REPEAT_LENGTH - 1; j++) target.set(s[k] + j, s[k - 1] + j + 1);
      for (let q = 0; q < t; q++) {
        set(r, 0, q, Math.max(q - 1, 0));
        set(r, 1, q, target.get(q) ?? q);
      }
    }
    const { prevTokenScore, inductionScore } = repeatScores([layer], b);
    expect(prevTokenScore[0][0]).toBeCloseTo(1, 6);
    expect(inductionScore[0][1]).toBeCloseTo(1, 6);
    expect(prevTokenScore[0][1]).toBeLessThan(0.5);
    expect(inductionScore[0][0]).toBeLessThan(0.2);

    const s3 = SEQUENCE_TASKS.skip3.sample(new Rng(6), 10);
    const att = new Float32Array(10 * 1 * 8 * 8);
    for (let r = 0; r < 10; r++) {
      const k = Array.from(s3.tokens.subarray(r * 8, r * 8 + 8)).findIndex((x) => x >= 10);
      att[(r * 8 + 7) * 8 + k] = 1;
    }
    expect(specialAttention(att, s3)).toEqual([1]);
  });

  it('trains skip3 on fresh sequences: the test loss falls, every tensor freed', () => {
    const before = tf.memory().numTensors;
    const trainer = new SequenceTrainer({ ...defaultSequenceConfig('skip3'), data: Infinity, testSize: 300 });
    const first = trainer.measure();
    expect(first.testLoss).toBeCloseTo(Math.log(20), 0);
    const afterBuild = tf.memory().numTensors;
    for (let e = 0; e < 150; e++) trainer.trainEpoch();
    expect(tf.memory().numTensors).toBe(afterBuild);
    const last = trainer.measure();
    expect(last.testLoss).toBeLessThan(0.7 * first.testLoss);
    expect(last.testAcc).toBeGreaterThan(2 * first.testAcc);
    // With fresh data every update, train and test loss coincide (Fig. 33).
    expect(Math.abs(last.trainLoss - last.testLoss)).toBeLessThan(0.25 * last.testLoss);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('digits5: the per-digit losses average to the test loss', () => {
    const trainer = new SequenceTrainer({ ...defaultSequenceConfig('digits5'), data: 32, testSize: 50 });
    trainer.trainEpoch();
    const cp = trainer.measure();
    expect(cp.perTokenLoss).toHaveLength(6);
    const mean = cp.perTokenLoss!.reduce((a, b) => a + b, 0) / 6;
    expect(mean).toBeCloseTo(cp.testLoss, 5);
    trainer.dispose();
  });
});

describe('train --task digits5|repeat|skip3 (the CLI)', () => {
  it('routes only the sequence tasks to their trainer, and checks its flags', () => {
    expect(sequenceTaskOf(['train', '--task', 'repeat'])).toBe('repeat');
    expect(sequenceTaskOf(['train', '--task=skip3', '--epochs', '5'])).toBe('skip3');
    expect(sequenceTaskOf(['train', '--task', 'add'])).toBeNull();
    expect(sequenceTaskOf(['train', '--p', '53'])).toBeNull();
    const flags = (o: Record<string, string>) => new Map(Object.entries({ task: 'digits5', ...o }));
    expect(sequenceConfigFromFlags(flags({}))).toMatchObject({ data: 700, batch: 0, lr: 1e-3, weightDecay: 1, beta2: 0.98, epochs: 1000, every: 20 });
    expect(sequenceConfigFromFlags(flags({ data: 'inf' })).data).toBe(Infinity);
    expect(sequenceConfigFromFlags(new Map([['task', 'repeat']])).batch).toBe(128);
    for (const bad of <Record<string, string>[]>[{ data: '0' }, { data: '1.5' }, { data: 'NaN' }, { lr: '-1' }, { b2: '1' }, { epochs: '' }]) {
      expect(() => sequenceConfigFromFlags(flags(bad)), JSON.stringify(bad)).toThrow(UsageError);
    }
  });

  it('--appendix RUN trains the page\'s run of Figs. 29–34 (its task, data, epochs, cadence), other flags winning', () => {
    expect(sequenceTaskOf(['train', '--appendix', 'repeat-512'])).toBe('repeat');
    expect(sequenceTaskOf(['train', '--appendix=skip3-inf'])).toBe('skip3');
    expect(sequenceConfigFromFlags(new Map([['appendix', 'digits5-700']]))).toMatchObject({ task: 'digits5', data: 700, epochs: 18053, every: 10 });
    expect(sequenceConfigFromFlags(new Map([['appendix', 'skip3-inf'], ['epochs', '40']]))).toMatchObject({ task: 'skip3', data: Infinity, epochs: 40, every: 25 });
    expect(() => sequenceConfigFromFlags(new Map([['appendix', 'skip3-inf'], ['task', 'repeat']]))).toThrow(/a run of skip3, not of --task repeat/);
    expect(() => sequenceConfigFromFlags(new Map([['appendix', 'nope']]))).toThrow(/--appendix nope is not one of skip3-inf, skip3-512/);
  });
});

describe('a sweep of an appendix task trained batched (model/sequence/batched.ts)', () => {
  /** Checkpoints at epochs 0…epochs of a trainer (one model's or a sweep's), then disposed. */
  const checkpoints = <T,>(t: { measure(): T; trainEpoch(): void; dispose(): void }, epochs: number): T[] => {
    const out = [t.measure()];
    for (let e = 0; e < epochs; e++) {
      t.trainEpoch();
      out.push(t.measure());
    }
    t.dispose();
    return out;
  };
  type Over = Partial<ReturnType<typeof defaultSequenceConfig>>;
  const alone = (task: SequenceTaskName, seed: number, data: number, epochs: number, over: Over = {}) => checkpoints(new SequenceTrainer({ ...defaultSequenceConfig(task), seed, data, testSize: 40, ...over }), epochs);
  const together = (task: SequenceTaskName, points: SequenceSweepPoint[], epochs: number, over: Over = {}) => {
    // Stacked as on a GPU (on wasm it would train one by one): the math must not depend on the backend.
    const t = new SequenceSweepTrainer({ ...defaultSequenceConfig(task), testSize: 40, ...over }, points, { stacked: true });
    expect(t.layout).toBe('stacked');
    return checkpoints(t, epochs);
  };
  const same = (a: SequenceCheckpoint, b: SequenceCheckpoint, what: string) => {
    expect(a.epoch).toBe(b.epoch);
    for (const k of ['trainLoss', 'testLoss', 'testAcc'] as const) expect(a[k], `${what} ${k} at epoch ${a.epoch}`).toBeCloseTo(b[k], 4);
    (a.specialTokenAttention ?? []).forEach((x, h) => expect(x, `${what} head ${h}`).toBeCloseTo(b.specialTokenAttention![h], 4));
    (a.perTokenLoss ?? []).forEach((x, j) => expect(x, `${what} digit ${j}`).toBeCloseTo(b.perTokenLoss![j], 4));
    (a.inductionScore ?? []).flat().forEach((x, j) => expect(x, `${what} induction ${j}`).toBeCloseTo(b.inductionScore!.flat()[j], 4));
  };

  it('every model of a sweep over seeds and data sizes trains exactly as alone (fixed sets of different sizes, padded)', () => {
    const before = tf.memory().numTensors;
    const points = [{ seed: 0, data: 48 }, { seed: 1, data: 48 }, { seed: 0, data: 20 }];
    const batched = together('skip3', points, 4, { lr: 3e-3 });
    expect(tf.memory().numTensors).toBe(before);
    points.forEach((p, i) => alone('skip3', p.seed, p.data, 4, { lr: 3e-3 }).forEach((c, e) => same(batched[e][i], c, `seed ${p.seed}, data ${p.data}`)));
    // The models differ from each other (they are not one model copied).
    expect(batched[4][0].trainLoss).not.toBeCloseTo(batched[4][1].trainLoss, 4);
  });

  it('on fresh data each model draws its own batches; digits5 and repeat too; what cannot stack trains one by one', () => {
    const points = [{ seed: 2, data: Infinity }, { seed: 3, data: Infinity }];
    const batched = together('skip3', points, 2, { batch: 32 });
    points.forEach((p, i) => alone('skip3', p.seed, p.data, 2, { batch: 32 }).forEach((c, e) => same(batched[e][i], c, `seed ${p.seed}, fresh`)));
    const d = together('digits5', [{ seed: 0, data: 16 }, { seed: 1, data: 16 }], 1);
    alone('digits5', 1, 16, 1).forEach((c, e) => same(d[e][1], c, 'digits5 seed 1'));
    const r = together('repeat', [{ seed: 0, data: 8 }, { seed: 5, data: 6 }], 1, { batch: 8, testSize: 6 });
    alone('repeat', 5, 6, 1, { batch: 8, testSize: 6 }).forEach((c, e) => same(r[e][1], c, 'repeat seed 5'));
    // Points that cannot share an update are not stacked; they train one by one, as on the CPU by default.
    expect(() => new SequenceStack(defaultSequenceConfig('skip3'), [{ seed: 0, data: 64 }, { seed: 0, data: Infinity }])).toThrow(/fresh data \(inf\) and fixed sets/);
    expect(() => new SequenceStack({ ...defaultSequenceConfig('repeat'), batch: 128 }, [{ seed: 0, data: 512 }, { seed: 0, data: 128 }])).toThrow(/different numbers of batches/);
    const mixed = new SequenceSweepTrainer(defaultSequenceConfig('skip3'), [{ seed: 0, data: 64 }, { seed: 0, data: Infinity }], { stacked: true });
    expect(mixed.layout).toBe('one by one');
    mixed.dispose();
    const cpu = new SequenceSweepTrainer(defaultSequenceConfig('skip3'), [{ seed: 0, data: 64 }, { seed: 1, data: 64 }]);
    expect(cpu.layout).toBe('one by one');
    cpu.dispose();
  });
});

describe('sweep --task (the CLI)', () => {
  it('trains every seed × data size, each run exactly as train --task would alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-seq-sweep-'));
    const common = ['--task', 'skip3', '--epochs', '2', '--every', '1', '--test-size', '30', '--quiet'];
    const sweep = await sequenceSweepCommand(['sweep', ...common, '--seeds', '0,1', '--data', '16,32', '--out', join(dir, 'sweep.json')]);
    expect(sweep.runs.map((r) => `${r.seed}/${r.data}`)).toEqual(['0/16', '0/32', '1/16', '1/32']);
    expect(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).runs).toHaveLength(4);
    const one = await sequenceTrainCommand(['train', ...common, '--seed', '1', '--data', '32', '--out', join(dir, 'one.json')]);
    expect(sweep.runs[3].history).toEqual(one.history);
    await expect(sequenceTrainCommand(['train', ...common, '--seeds', '0,1'])).rejects.toThrow(/several seeds or data sizes are a sweep/);
    await expect(sequenceSweepCommand(['sweep', ...common, '--data', '16,x'])).rejects.toThrow(/--data must list whole numbers ≥ 1 or inf/);
  });
});
