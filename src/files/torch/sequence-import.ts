/**
 * The authors' saved runs of the appendix tasks (App. D.3, saved_runs/ of progress-measures-paper):
 *
 * - `5_digit_addition_infinite.pth`: {train_losses, model} — the mainline's layout over 18
 *   positions, vocabulary 12, 10 outputs;
 * - `induction_head_{finite,infinite}.pth`: {model, optimizer, scheduler, train_losses,
 *   [test_losses], data_config, optim_config, model_config} — an attention-only model whose
 *   blocks are named `attn_blocks.N`;
 * - `5_digit_addition_finite.pth`, `skip_trigram_finite.pth`: {train_losses, test_losses};
 *   `…_infinite_train.pth`, `skip_trigram_infinite.pth`: a plain list of losses (fresh data: train
 *   and test coincide).
 *
 * Weights come out in the sequence model's layout (model/sequence/forward.ts, TransformerLens
 * orientation) by the same conversion as the mainline's (import.ts). Which task a model is, is read
 * from its shapes; a loss list, which has no shapes, from its file name.
 */
import { SEQUENCE_TASKS, type SequenceTaskName } from '../../task/sequence.ts';
import type { RawTensor } from '../safetensors/safetensors.ts';
import { cutText } from '../../run/format.ts';
import { convertStateDict, fields, isDict, numberList } from './import.ts';
import { TorchTensor, type PyKey, type PyValue } from './pickle.ts';
import { readTorchFile } from './torch-file.ts';
import { TorchFileError } from './zip.ts';

function fail(message: string): never {
  throw new TorchFileError(message);
}

export interface SequenceImport {
  task: SequenceTaskName;
  /** Weights by the sequence model's parameter names, or null: the file holds loss curves only. */
  weights: Map<string, RawTensor> | null;
  /** Loss per logged step (the authors log per update for repeat's train loss: 4 a pass). */
  trainLosses: number[] | null;
  testLosses: number[] | null;
  /** Training examples the file states or its name implies; Infinity: fresh data every update; null: unknown. */
  data: number | null;
  /** The file's data_config, model_config and optim_config, as stated. */
  configs: Record<string, Record<string, number | string | boolean>>;
  description: string;
}

/** The task a file name speaks of (the authors' names), or null. */
export function taskFromFileName(name: string): SequenceTaskName | null {
  const n = name.toLowerCase();
  if (/5_digit|digits5/.test(n)) return 'digits5';
  if (/induction|repeat/.test(n)) return 'repeat';
  if (/skip_trigram|skip3/.test(n)) return 'skip3';
  return null;
}

/** The task whose model has these shapes (vocabulary in, out, positions, layers, MLP), or null. */
function taskFromShapes(w: Map<string, RawTensor>): SequenceTaskName | null {
  const vocab = w.get('embed.W_E')?.shape[0];
  const vocabOut = w.get('unembed.W_U')?.shape[1];
  const nCtx = w.get('pos_embed.W_pos')?.shape[0];
  for (const [name, spec] of Object.entries(SEQUENCE_TASKS) as [SequenceTaskName, (typeof SEQUENCE_TASKS)[SequenceTaskName]][]) {
    if (spec.vocab === vocab && spec.vocabOut === vocabOut && spec.nCtx === nCtx) return name;
  }
  return null;
}

/** Every parameter of the task's model, with its shape: the file must be exactly that model. */
function checkShapes(task: SequenceTaskName, w: Map<string, RawTensor>, fileName: string): void {
  const spec = SEQUENCE_TASKS[task];
  const m = spec.model;
  const want = new Map<string, number[]>([
    ['embed.W_E', [spec.vocab, m.dModel]],
    ['pos_embed.W_pos', [spec.nCtx, m.dModel]],
    ['unembed.W_U', [m.dModel, spec.vocabOut]],
  ]);
  for (let l = 0; l < m.nLayers; l++) {
    for (const x of ['Q', 'K', 'V']) want.set(`blocks.${l}.attn.W_${x}`, [m.nHeads, m.dModel, m.dHead]);
    want.set(`blocks.${l}.attn.W_O`, [m.nHeads, m.dHead, m.dModel]);
    if (m.dMlp > 0) {
      want.set(`blocks.${l}.mlp.W_in`, [m.dModel, m.dMlp]).set(`blocks.${l}.mlp.b_in`, [m.dMlp]);
      want.set(`blocks.${l}.mlp.W_out`, [m.dMlp, m.dModel]).set(`blocks.${l}.mlp.b_out`, [m.dModel]);
    }
  }
  for (const [name, shape] of want) {
    const got = w.get(name)?.shape;
    if (!got) fail(`${fileName} is a ${spec.label} model without ${name}`);
    if (got.join() !== shape.join()) fail(`${name} of ${fileName} is [${got.join(', ')}]; the paper's ${spec.label} model has [${shape.join(', ')}]`);
  }
  const extra = [...w.keys()].filter((k) => !want.has(k));
  if (extra.length) fail(`${fileName} has parameters the paper's ${spec.label} model does not: ${extra.slice(0, 4).map((k) => cutText(k, 40)).join(', ')}`);
}

function plainConfig(v: PyValue | undefined): Record<string, number | string | boolean> | null {
  const d = fields(v);
  if (!d) return null;
  const out: Record<string, number | string | boolean> = {};
  for (const [k, x] of d) if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') out[String(k).slice(0, 40)] = typeof x === 'string' ? cutText(x, 40) : x;
  return out;
}

const looksLikeSequenceModel = (sd: Map<PyKey, PyValue>) => {
  if ([...sd.keys()].some((k) => /^attn_blocks\.\d+\./.test(String(k)))) return true;
  const pos = sd.get('pos_embed.W_pos');
  return pos instanceof TorchTensor && pos.shape[0] !== 3;
};

/**
 * Reads an authors' D.3 file, or returns null when the file is none (a mainline model, a sweep,
 * anything else: the other readers say what it is).
 */
export function readSequenceTorch(bytes: Uint8Array, fileName: string): SequenceImport | null {
  const file = readTorchFile(bytes);
  const root = file.root;
  const named = taskFromFileName(fileName);
  const curves = (v: PyValue | undefined, what: string) => numberList(v, file, what);
  if (Array.isArray(root)) {
    if (!named || root.some((x) => typeof x !== 'number')) return null;
    const losses = curves(root, 'the loss list');
    // A plain list is the authors' fresh-data runs: one loss, the train and the test one.
    return { task: named, weights: null, trainLosses: losses, testLosses: null, data: Infinity, configs: {}, description: `${SEQUENCE_TASKS[named].label}: a loss curve of ${losses!.length.toLocaleString('en-US')} steps on fresh data (no weights)` };
  }
  if (!isDict(root)) return null;
  const model = root.get('model');
  const trainLosses = curves(root.get('train_losses'), 'train_losses');
  const testLosses = curves(root.get('test_losses'), 'test_losses');
  const configs: SequenceImport['configs'] = {};
  for (const k of ['data_config', 'model_config', 'optim_config']) {
    const c = plainConfig(root.get(k));
    if (c) configs[k] = c;
  }
  const dc = configs.data_config;
  const statedData = dc ? (dc.is_finite === false ? Infinity : typeof dc.num_batches === 'number' && typeof dc.batch_size === 'number' ? dc.num_batches * dc.batch_size : null) : null;
  const impliedData = /infinite/i.test(fileName) ? Infinity : /finite/i.test(fileName) && named ? SEQUENCE_TASKS[named].finiteData : null;
  const data = statedData ?? impliedData;
  const dataWords = data === null ? '' : data === Infinity ? ', fresh data every step' : `, ${data.toLocaleString('en-US')} training examples`;
  const curveWords = `${trainLosses ? `, train loss over ${trainLosses.length.toLocaleString('en-US')} steps` : ''}${testLosses ? `, test loss over ${testLosses.length.toLocaleString('en-US')}` : ''}`;
  if (!isDict(model)) {
    if (!named || !(trainLosses || testLosses) || model !== undefined) return null;
    return { task: named, weights: null, trainLosses, testLosses, data, configs, description: `${SEQUENCE_TASKS[named].label}: loss curves only (no weights)${dataWords}${curveWords}` };
  }
  if (!looksLikeSequenceModel(model)) return null;
  // The induction-head code names its blocks attn_blocks; the layout within is the authors'.
  const renamed = new Map<PyKey, PyValue>([...model].map(([k, v]) => [String(k).replace(/^attn_blocks\./, 'blocks.'), v]));
  const weights = convertStateDict(renamed, file, 'authors');
  const task = taskFromShapes(weights) ?? named;
  if (!task) {
    const shape = (n: string) => `[${weights.get(n)?.shape.join(', ') ?? '–'}]`;
    fail(`${fileName} is a model over ${weights.get('pos_embed.W_pos')?.shape[0] ?? '?'} positions (W_E ${shape('embed.W_E')}, W_U ${shape('unembed.W_U')}), none of the appendix's tasks (5-digit addition, repeated subsequences, skip trigrams)`);
  }
  checkShapes(task, weights, fileName);
  const mc = configs.model_config;
  if (mc && typeof mc.act_type === 'string' && SEQUENCE_TASKS[task].model.dMlp > 0 && mc.act_type.toLowerCase() !== 'relu') fail(`${fileName}'s activation is ${mc.act_type}, not ReLU`);
  return { task, weights, trainLosses, testLosses, data, configs, description: `${SEQUENCE_TASKS[task].label}: the authors' model (${task === 'repeat' ? 'attn_blocks layout, ' : ''}${SEQUENCE_TASKS[task].model.nLayers} layer${SEQUENCE_TASKS[task].model.nLayers > 1 ? 's' : ''})${dataWords}${curveWords}` };
}

