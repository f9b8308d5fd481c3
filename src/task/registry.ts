/**
 * Every task grokscope trains, keyed by the name that goes into the URL (`?task=sub`) and the CLI
 * (`--task sub`), as TensorFlow Playground keys its data sets. An entry says all the rest of the
 * code may ask of a task: what the model reads (vocabulary, context) and answers, how its data is
 * made, where the loss is read, which model family trains it, which of the paper's measures and
 * which of the page's views apply, and the names other tools' files give it.
 */
import { MODULAR_TASKS } from './modular.ts';
import type { Measure, TaskSpec, View } from './spec.ts';

export const TASKS = { ...MODULAR_TASKS } satisfies Record<string, TaskSpec>;

export type Task = keyof typeof TASKS;
export const TASK_NAMES = Object.keys(TASKS) as Task[];

export function taskSpec(task: Task): TaskSpec {
  return TASKS[task];
}

/** Each task's name in the page's words, by URL name. */
export const TASK_LABELS = Object.fromEntries(TASK_NAMES.map((t) => [t, TASKS[t].label])) as Record<Task, string>;

export function isTask(name: string): name is Task {
  return Object.prototype.hasOwnProperty.call(TASKS, name);
}

/** The task a file of another tool names, by our name or one of its aliases; null if none. */
export function taskFromName(name: string): Task | null {
  if (isTask(name)) return name;
  return TASK_NAMES.find((t) => taskSpec(t).aliases.includes(name)) ?? null;
}

/** Whether a task has the measure (the worker's analysis) or the view (the page's section). */
export function taskHas(task: Task, what: Measure | View): boolean {
  const spec = taskSpec(task);
  return (spec.measures as readonly string[]).includes(what) || (spec.views as readonly string[]).includes(what);
}
