/**
 * The run's configuration: a preset menu for the paper's experiments and every other option.
 * Options marked live apply at once; the rest apply on Reset (or at once, before the first update).
 */
import { useId } from 'react';
import { commands } from '../../client/client.ts';
import { PRESETS, PRESET_NAMES, isPresetName } from '../../config/presets.ts';
import { FIELDS, checkConsistency, dims, type TrainConfig } from '../../config/schema.ts';
import { TASK_LABELS } from '../../task/registry.ts';
import { useAppStore } from '../../store/store.ts';
import { NumberField } from './LiveControls.tsx';
import { presetOfRun, shownPreset } from './preset-shown.ts';

type NumericKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never }[keyof TrainConfig];
type EnumKey = Exclude<keyof TrainConfig, NumericKey>;

const GROUPS: { title: string; fields: (keyof TrainConfig)[] }[] = [
  { title: 'Task and data', fields: ['task', 'p', 'frac', 'seed', 'split'] },
  { title: 'Model', fields: ['dModel', 'nHeads', 'dMlp', 'nLayers', 'act', 'vocabOut'] },
  { title: 'Training', fields: ['epochs', 'warmup', 'beta1', 'beta2', 'dropout', 'l1', 'lossPrecision'] },
  { title: 'Grokfast (Lee et al. 2024)', fields: ['grokfastLambda', 'grokfastAlpha'] },
  { title: 'Beyond the paper (README)', fields: ['orthoGrad', 'loss', 'weightNorm', 'initScale', 'attnRate'] },
];

const ENUM_LABELS: Partial<Record<EnumKey, Record<string, string>>> = {
  task: TASK_LABELS,
  act: { relu: 'ReLU', gelu: 'GELU' },
  vocabOut: { p1: "P + 1 (keeps '=')", p: 'P' },
  loss: { softmax: 'softmax cross-entropy', stablemax: 'StableMax (Prieto et al. 2025)' },
  lossPrecision: { high: 'high (exact label gradient)', f32: 'float32 (slingshots, App. D.2)' },
};

function commit(name: keyof TrainConfig, value: TrainConfig[keyof TrainConfig]) {
  if (FIELDS[name].live) commands.setLive({ [name]: value });
  else commands.setConfig({ [name]: value });
}

export function ConfigForm() {
  const draft = useAppStore((s) => s.draft);
  // The preset's name whenever the settings are the preset's; its promise only while the run is its experiment.
  const preset = useAppStore((s) => shownPreset(s));
  useAppStore((s) => s.historyVersion);
  const ofRun = presetOfRun(useAppStore.getState());
  const presetId = useId();
  const problems = checkConsistency(draft);
  const d = dims(draft);
  return (
    <section className="panel" aria-label="Configuration">
      <h2>Experiment</h2>
      <div className="field">
        <label htmlFor={presetId}>preset</label>
        <select
          id={presetId}
          value={preset ?? ''}
          data-testid="preset"
          onChange={(e) => {
            if (isPresetName(e.target.value)) commands.choosePreset(e.target.value);
          }}
        >
          {preset === null && <option value="">custom</option>}
          {PRESET_NAMES.map((name) => (
            <option key={name} value={name}>
              {PRESETS[name].label}
            </option>
          ))}
        </select>
        {preset && (
          <p className="hint muted" data-testid="preset-expect">
            {ofRun === preset
              ? PRESETS[preset].expect
              : `This run was trained with another λ or learning rate for a while, so it is no longer the preset's experiment; Reset starts the preset afresh.`}
          </p>
        )}
      </div>
      {GROUPS.map((group) => (
        <fieldset key={group.title}>
          <legend>{group.title}</legend>
          {group.fields.map((name) => (
            <FieldInput key={name} name={name} value={draft[name]} />
          ))}
        </fieldset>
      ))}
      <p className="hint muted" data-testid="derived">
        {d.nTrain.toLocaleString('en-US')} training pairs of {d.nPairs.toLocaleString('en-US')}; d_head = {Number.isInteger(d.dHead) ? d.dHead : '–'}
      </p>
      {problems.map((p) => (
        <p key={p.rule} className="field-error" role="alert">
          {p.message}
        </p>
      ))}
    </section>
  );
}

function FieldInput({ name, value }: { name: keyof TrainConfig; value: TrainConfig[keyof TrainConfig] }) {
  const spec = FIELDS[name];
  const id = useId();
  const label = `${spec.label}${spec.live ? ' (live)' : ''}`;
  if (spec.kind === 'enum') {
    const labels = ENUM_LABELS[name as EnumKey] ?? {};
    return (
      <div className="field" title={spec.help}>
        <label htmlFor={id}>{label}</label>
        <select id={id} value={String(value)} data-testid={`field-${spec.key}`} onChange={(e) => commit(name, e.target.value as TrainConfig[keyof TrainConfig])}>
          {spec.values.map((v) => (
            <option key={v} value={v}>
              {labels[v] ?? v}
            </option>
          ))}
        </select>
      </div>
    );
  }
  return (
    <div title={spec.help}>
      <NumberField label={label} field={name} value={value as number} onCommit={(v) => commit(name, v)} testId={`field-${spec.key}`} />
    </div>
  );
}
