/**
 * The LLM lab's renderer-side knowledge: the launcher's fields (from LlmConfigSchema via schemaFields), its
 * presets (LLM_PRESETS), client-side validation with the lab's own schema, and the lists of added models and
 * datasets that the Models and Datasets views keep in localStorage.
 */
import { LlmConfigSchema, LLM_PRESETS, type LlmConfig } from '@shared/llm-config';
import type { DatasetInspection, ModelInspection } from '@shared/llm-api';
import { LOSS_NAMES, PAPER_LOSSES, type CustomLossSpec, type LossName } from '@shared/losses';
import { schemaFields, type SchemaField } from '@shared/schema-fields';
import { issuesFromZod } from '@shared/errors';
import { parseTags, MAX_TAGS, MAX_TAG_LENGTH } from './launch';
import { batchConfig, type LossBatch } from '@shared/loss-batches';
import { formatParameterCount } from '@shared/llm-model';

export { LOSS_NAMES, PAPER_LOSSES, LLM_PRESETS, type LossName, type LlmConfig };

export type LlmKey = keyof LlmConfig;
export type LlmValues = Record<LlmKey, unknown>;

export interface LlmField extends SchemaField {
  key: LlmKey;
  /** shown only when this returns true for the current config and picked losses */
  when?: (c: LlmValues, losses: readonly string[]) => boolean;
}

const ALL_FIELDS = schemaFields(LlmConfigSchema) as LlmField[];

/** Fields the launcher draws by hand: model and data (pick from the lists or type a path), loss (checkboxes). */
const OWN_INPUTS: readonly LlmKey[] = ['model', 'data', 'loss', 'customLoss'];

const SHOWN_WHEN: Partial<Record<LlmKey, (c: LlmValues, losses: readonly string[]) => boolean>> = {
  preference: (c) => c.dataFormat === 'saferlhf' || c.dataFormat === 'auto',
  // a formula may read clip too
  clip: (_c, losses) => losses.some((l) => l.startsWith('nbdpo') || l === 'custom'),
  labelSmoothing: (_c, losses) => losses.includes('cdpo'),
  loraRank: (c) => c.finetune === 'lora',
  loraAlpha: (c) => c.finetune === 'lora',
  loraDropout: (c) => c.finetune === 'lora',
  loraTargets: (c) => c.finetune === 'lora',
};

export const LLM_GROUP_ORDER = ['Data', 'Loss', 'LoRA', 'Training'] as const;

export const LLM_FIELD_GROUPS: { title: string; fields: LlmField[] }[] = LLM_GROUP_ORDER.map((title) => ({
  title,
  fields: ALL_FIELDS.filter((f) => f.group === title && !OWN_INPUTS.includes(f.key)).map((f) => ({ ...f, when: SHOWN_WHEN[f.key] })),
}));

/** Every field's default; model and data have none (''). */
export const LLM_DEFAULTS: LlmValues = Object.fromEntries(ALL_FIELDS.map((f) => [f.key, f.default ?? ''])) as LlmValues;

export interface LlmForm {
  config: LlmValues;
  losses: LossName[];
  /** saved custom (formula) losses picked beside the built-ins */
  customs: CustomLossSpec[];
  name: string;
  tags: string;
}

export function freshLlmForm(): LlmForm {
  return { config: { ...LLM_DEFAULTS }, losses: ['dpo'], customs: [], name: '', tags: '' };
}

/** A preset over the defaults; the chosen model and data stay. */
export function applyLlmPreset(f: LlmForm, id: string): void {
  const p = LLM_PRESETS[id];
  if (!p) return;
  f.config = { ...LLM_DEFAULTS, model: f.config.model, data: f.config.data, ...p.config } as LlmValues;
}

/** Client-side validation with the lab's schema; keys are the lab's paths ("config.lr"). */
export function validateLlmForm(f: LlmForm): Record<string, string> {
  const errors: Record<string, string> = {};
  // the loss fields come from the pickers at launch (a saved formula is checked when saved)
  const { customLoss: _custom, ...fields } = f.config;
  void _custom;
  const res = LlmConfigSchema.safeParse({ ...fields, loss: 'dpo' });
  if (!res.success) for (const i of issuesFromZod(res.error, 'config')) errors[i.path] ??= i.message;
  for (const [k, v] of Object.entries(f.config)) {
    if (typeof v === 'number' && Number.isNaN(v)) errors[`config.${k}`] = 'enter a number';
  }
  if (!f.losses.length && !f.customs.length) errors.losses = 'pick at least one loss';
  const tags = parseTags(f.tags);
  const long = tags.find((t) => t.length > MAX_TAG_LENGTH);
  if (long) errors.tags = `tags must be at most ${MAX_TAG_LENGTH} characters (“${long.slice(0, 20)}…” has ${long.length})`;
  else if (tags.length > MAX_TAGS) errors.tags = `at most ${MAX_TAGS} tags`;
  return errors;
}

/** The config the lab gets for one request (lossBatches): only the schema's keys, its loss fields from the batch. */
export function configForLaunch(f: LlmForm, batch: LossBatch): Record<string, unknown> {
  return batchConfig(f.config as Record<string, unknown>, batch);
}

/** A stored run config back into the form (unknown keys dropped, missing ones defaulted). */
export function llmConfigFromRun(stored: Record<string, unknown>): LlmValues {
  const out: Record<string, unknown> = { ...LLM_DEFAULTS };
  for (const k of Object.keys(LLM_DEFAULTS)) if (k in stored) out[k] = stored[k];
  return out as LlmValues;
}

// ---- lists kept in localStorage ----------------------------------------------------------------------------

export const MODELS_KEY = 'dpo-lab:models';
export const DATASETS_KEY = 'dpo-lab:datasets';

export interface SavedModel {
  path: string;
  addedAt: number;
  /** the inspection when it was added or last refreshed */
  info: ModelInspection;
}

export interface SavedDataset {
  path: string;
  addedAt: number;
  format: string;
  preference: string;
  /** model folder used for token counts, if any */
  model?: string;
  /** the inspection's summary (no preview: that is fetched again when the dataset is opened) */
  summary: Pick<DatasetInspection, 'format' | 'pairs' | 'totalRows' | 'skippedCount' | 'droppedCount'>;
}

function readList<T extends { path: string }>(key: string): T[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object' && typeof (x as { path?: unknown }).path === 'string') as T[]) : [];
  } catch {
    return [];
  }
}

function writeList<T>(key: string, list: T[]): void {
  try {
    localStorage.setItem(key, JSON.stringify(list));
  } catch {
    /* storage full or disabled: the list lives for this page only */
  }
}

/** Adds or replaces (same path) an entry, newest first. */
function upsert<T extends { path: string }>(list: T[], item: T): T[] {
  return [item, ...list.filter((x) => x.path !== item.path)];
}

export const savedModels = {
  load: (): SavedModel[] => readList<SavedModel>(MODELS_KEY),
  save: (list: SavedModel[]) => writeList(MODELS_KEY, list),
  add: (list: SavedModel[], m: SavedModel) => upsert(list, m),
};

export const savedDatasets = {
  load: (): SavedDataset[] => readList<SavedDataset>(DATASETS_KEY),
  save: (list: SavedDataset[]) => writeList(DATASETS_KEY, list),
  add: (list: SavedDataset[], d: SavedDataset) => upsert(list, d),
};

/** The last path segment, for short labels. */
export function baseName(p: string): string {
  const parts = p.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

/** 1536 → "1.5 KB", 7.2e9 → "7.2 GB" (decimal units, as disk sizes are quoted). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** 124_439_808 → "124.4M", 1.1e9 → "1.10B". */
export const fmtParams = formatParameterCount;
