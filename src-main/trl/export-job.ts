import fs from 'node:fs';
import path from 'node:path';
import type { TrlExportResult } from '@shared/trl-job';
import { loraTargets, type LlmConfig, LORA_TARGETS_DEFAULT } from '@shared/llm-config';
import { lossesPy } from './losses-py';
import { lossLabel, type CustomLossSpec } from '@shared/losses';
import { DATA_PY } from './data-py';
import { trainPy, TRL_VERSION } from './train-py';
import { accelerateConfigs, PINNED_REQUIREMENTS, readme, slurmScript } from './job-files';

/** The lab's split of a run's data as pair indices in file order (after maxPairs); dropped pairs are in neither. */
export interface DataSplit {
  pairs: number;
  train: number[];
  eval: number[];
}

/** The exported config file, read back by import-trl to name and describe the imported run. */
export const EXPORTED_CONFIG_FILE = 'dpo_lab_run.json';

function modelType(modelDir: string): keyof typeof LORA_TARGETS_DEFAULT | null {
  try {
    const t = (JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { model_type?: unknown }).model_type;
    return typeof t === 'string' && t in LORA_TARGETS_DEFAULT ? (t as keyof typeof LORA_TARGETS_DEFAULT) : null;
  } catch {
    return null;
  }
}

/** Adapter targets as train.py needs them: the run's own list, the architecture's default, or [] (PEFT's default). */
function resolvedLoraTargets(config: LlmConfig): string[] {
  const type = modelType(config.model);
  if (type) return loraTargets(config, type);
  return config.loraTargets
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The run's own custom loss when its config chose one (`loss: 'custom'` with `customLoss`, issue 11). */
export function runCustomLoss(config: { loss: string; customLoss?: CustomLossSpec | null }): CustomLossSpec | null {
  if (config.loss !== 'custom') return null;
  if (!config.customLoss) throw new Error('the run\'s loss is "custom" but its config has no customLoss (name and formula)');
  return config.customLoss;
}

/** The custom losses written into dpo_lab_losses.py: the run's own first, then the others given (by name, once). */
function exportedCustomLosses(config: LlmConfig, others: readonly CustomLossSpec[]): CustomLossSpec[] {
  const own = runCustomLoss(config);
  const all = own ? [own, ...others.filter((c) => c.name !== own.name)] : [...others];
  return all.filter((c, i) => all.findIndex((d) => d.name === c.name) === i);
}

/**
 * Writes a self-contained TRL + Accelerate project for an LLM run into `out` (created; must be empty or absent
 * unless `overwrite`). `split` is the lab's train/held-out split when the caller could compute it; `customLosses`
 * are saved formula losses to export beside the run's own (a custom run's formula is always exported).
 */
export function writeTrlJob(o: {
  runId: number;
  config: LlmConfig;
  out: string;
  split: DataSplit | null;
  overwrite?: boolean;
  customLosses?: readonly CustomLossSpec[];
}): TrlExportResult {
  const out = path.resolve(o.out);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new Error(`${out}: exists and is not a folder`);
    if (!o.overwrite && fs.readdirSync(out).length > 0) throw new Error(`${out}: folder is not empty (pass --overwrite to replace the job's files)`);
  }
  // before anything is written: a formula that does not parse, or a name that clashes, stops the export
  const losses = lossesPy(exportedCustomLosses(o.config, o.customLosses ?? []));
  const values: Record<string, unknown> = { ...o.config, loraTargets: resolvedLoraTargets(o.config) };
  delete values.threads; // a lab CPU setting with no meaning on a GPU cluster
  const files: Record<string, string> = {
    'dpo_lab_losses.py': losses,
    'dpo_lab_data.py': DATA_PY,
    'train.py': trainPy({ runId: o.runId, values }),
    [EXPORTED_CONFIG_FILE]: JSON.stringify({ source: 'dpo-lab export-trl', runId: o.runId, trlVersion: TRL_VERSION, config: o.config }, null, 2) + '\n',
    'requirements.txt': PINNED_REQUIREMENTS.join('\n') + '\n',
    'slurm.sh': slurmScript(o.runId),
    'README.md': readme({
      runId: o.runId,
      loss: lossLabel(o.config),
      model: o.config.model,
      data: o.config.data,
      finetune: o.config.finetune,
      splitRecorded: o.split !== null,
    }),
    ...Object.fromEntries(Object.entries(accelerateConfigs(o.config)).map(([name, text]) => [`accelerate/${name}`, text])),
  };
  if (o.split) files['data_split.json'] = JSON.stringify(o.split) + '\n';
  fs.mkdirSync(path.join(out, 'accelerate'), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(out, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  return { out, files: Object.keys(files).sort(), trlVersion: TRL_VERSION, splitRecorded: o.split !== null };
}

/** The lab's split of a run's pairs, exactly as trainLlm makes it (tokenization drops, seeded split, eval cap). */
export async function labDataSplit(config: LlmConfig): Promise<DataSplit> {
  const { preparePairs, isKept } = await import('../engine/llm/prepare-data');
  const { splitPairs } = await import('../engine/llm/data/split');
  const prepared = await preparePairs({
    model: config.model,
    data: config.data,
    format: config.dataFormat,
    preference: config.preference,
    promptFormat: config.promptFormat,
    maxLength: config.maxLength,
    maxPairs: config.maxPairs,
  });
  const kept = prepared.items.filter(isKept).map((t) => t.index);
  const split = splitPairs(kept, config.evalFraction, config.seed);
  return { pairs: prepared.items.length, train: split.train, eval: split.eval.slice(0, config.maxEvalPairs) };
}
