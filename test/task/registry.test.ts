import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, FIELDS, dims } from '../../src/config/schema.ts';
import { labelTable } from '../../src/task/pairs.ts';
import { TASK_NAMES, TASKS, isTask, taskFromName, taskHas, taskSpec } from '../../src/task/registry.ts';
import { VIEWS } from '../../src/task/spec.ts';

describe('the task registry', () => {
  it('is what the URL field accepts: every name an entry, nothing else', () => {
    const field = FIELDS.task;
    expect(field.kind === 'enum' ? [...field.values] : []).toEqual(TASK_NAMES);
    expect(TASK_NAMES.every(isTask)).toBe(true);
    expect(isTask('constructor')).toBe(false);
    expect(isTask('toString')).toBe(false);
  });

  it("reads other tools' names as the registry's tasks, and no alias is another task's name", () => {
    expect(taskFromName('subtract')).toBe('sub');
    expect(taskFromName('x2xyy2')).toBe('poly');
    expect(taskFromName('add')).toBe('add');
    expect(taskFromName('multiply')).toBeNull();
    const aliases = TASK_NAMES.flatMap((t) => taskSpec(t).aliases);
    expect(aliases.filter((a) => isTask(a))).toEqual([]);
    expect(new Set(aliases).size).toBe(aliases.length);
  });

  it("gives the model's sizes: P + 1 tokens and 3 positions for the ℤ_P tasks, P or P + 1 outputs", () => {
    for (const task of TASK_NAMES) {
      const d = dims({ ...DEFAULT_CONFIG, task, p: 7 });
      expect([d.dVocab, d.nCtx, d.dVocabOut]).toEqual([8, 3, 8]);
      expect(dims({ ...DEFAULT_CONFIG, task, p: 7, vocabOut: 'p' }).dVocabOut).toBe(taskSpec(task).classes({ p: 7, seed: 0 }));
    }
  });

  it('labels every pair with a class of the task, as its function says', () => {
    const p = 11;
    for (const task of TASK_NAMES) {
      const labels = labelTable(task, p, 3);
      expect(labels.every((y) => y >= 0 && y < TASKS[task].classes({ p, seed: 3 }))).toBe(true);
    }
    // Hand-checked values: 7 + 9 = 16 ≡ 5, 7 − 9 = −2 ≡ 9, 49 + 63 + 81 = 193 ≡ 6 (mod 11).
    const at = (task: 'add' | 'sub' | 'poly') => labelTable(task, p, 0)[7 * p + 9];
    expect([at('add'), at('sub'), at('poly')]).toEqual([5, 9, 6]);
  });

  it('says which views apply; the ℤ_P tasks have all of them', () => {
    for (const task of TASK_NAMES) for (const v of VIEWS) expect(taskHas(task, v)).toBe(true);
    expect(taskSpec('add').family).toBe('pair-transformer');
  });
});
