/** The launcher's knowledge of SyntheticConfig: labels, groups, help, and the presets the paper needs. */
import { SyntheticConfigSchema, defaultSyntheticConfig, type SyntheticConfig } from '@shared/synthetic-config';
import { LOSS_NAMES, PAPER_LOSSES, type CustomLossSpec, type LossName } from '@shared/losses';
import { TABLE1_MASKS } from '@shared/paper';
import { schemaFields, type SchemaField } from '@shared/schema-fields';
import { issuesFromZod } from '@shared/errors';

export { LOSS_NAMES, PAPER_LOSSES, type LossName, type SyntheticConfig };

export type ConfigKey = Exclude<keyof SyntheticConfig, 'loss' | 'customLoss'>;

/** A launcher input: the schema's own kind, bounds, label and help (schemaFields), plus when to show it. */
export interface FieldMeta extends SchemaField {
  key: ConfigKey;
  /** shown only when this returns true for the current config */
  when?: (c: Partial<SyntheticConfig>) => boolean;
}

/** Fields that only matter for some configs; the rest is always shown. */
const SHOWN_WHEN: Partial<Record<ConfigKey, (c: Partial<SyntheticConfig>) => boolean>> = {
  hidden: (c) => c.model !== 'table',
};

const GROUP_ORDER = ['Task', 'Model', 'Training', 'Loss'] as const;

export const FIELD_GROUPS: { title: string; fields: FieldMeta[] }[] = GROUP_ORDER.map((title) => ({
  title,
  fields: schemaFields(SyntheticConfigSchema)
    // the loss has its own picker (several losses side by side)
    .filter((f) => f.group === title && f.key !== 'loss')
    .map((f) => ({ ...f, key: f.key as ConfigKey, when: SHOWN_WHEN[f.key as ConfigKey] })),
}));

export const DEFAULT_CONFIG: SyntheticConfig = defaultSyntheticConfig();

export interface LaunchForm {
  config: SyntheticConfig;
  losses: LossName[];
  /** saved custom (formula) losses picked beside the built-ins */
  customs: CustomLossSpec[];
  seeds: number;
  name: string;
  tags: string;
}

export function freshForm(): LaunchForm {
  return { config: { ...DEFAULT_CONFIG }, losses: ['dpo'], customs: [], seeds: 1, name: '', tags: '' };
}

/** Client-side validation with the same schema the lab uses; keys are the lab's paths ("config.lr"). */
export function validateForm(f: LaunchForm): Record<string, string> {
  const errors: Record<string, string> = {};
  // the loss fields come from the pickers at launch (a saved formula is checked when saved)
  const { customLoss: _custom, ...fields } = f.config;
  void _custom;
  const res = SyntheticConfigSchema.safeParse({ ...fields, loss: 'dpo' });
  if (!res.success) {
    for (const i of issuesFromZod(res.error, 'config')) errors[i.path] ??= i.message;
  }
  for (const [k, v] of Object.entries(f.config)) {
    if (typeof v === 'number' && Number.isNaN(v)) errors[`config.${k}`] = 'enter a number';
    if ((v as unknown) === '' || v === null) errors[`config.${k}`] = 'required';
  }
  if (!f.losses.length && !f.customs.length) errors.losses = 'pick at least one loss';
  if (!Number.isInteger(f.seeds) || f.seeds < 1 || f.seeds > 50) errors.seeds = 'seeds must be a whole number from 1 to 50';
  const long = parseTags(f.tags).find((t) => t.length > MAX_TAG_LENGTH);
  if (long) errors.tags = `tags must be at most ${MAX_TAG_LENGTH} characters (“${long.slice(0, 20)}…” has ${long.length})`;
  else if (parseTags(f.tags).length > MAX_TAGS) errors.tags = `at most ${MAX_TAGS} tags`;
  return errors;
}

/** The lab's limits on tags (runs:start). */
export const MAX_TAG_LENGTH = 50;
export const MAX_TAGS = 20;

/** Above this K the heatmap (K² cells a frame) and the stored snapshots (K² values per evaluation) get heavy. */
export const LARGE_K = 100;

/** Advice that does not block a launch; keys as in validateForm. */
export function formWarnings(f: LaunchForm): Record<string, string> {
  const out: Record<string, string> = {};
  const K = f.config.K;
  if (typeof K === 'number' && Number.isFinite(K) && K > LARGE_K) {
    const frames = f.config.evalEvery > 0 ? Math.floor(f.config.steps / f.config.evalEvery) + 1 : 0;
    const mb = (K * K * frames * 8) / 1e6;
    out['config.K'] =
      `K = ${K}: the heatmap and the stored snapshots grow as K² (${(K * K).toLocaleString('en-US')} cells per frame` +
      (frames ? `, about ${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB for ${frames.toLocaleString('en-US')} frames` : '') +
      '); drawing may get slow. Raise "eval every" to store fewer frames.';
  }
  return out;
}

/** Seeds for the Table 1 sweep: a whole number from 1 to 20. */
export function table1SeedsError(seeds: unknown): string {
  if (typeof seeds !== 'number' || !Number.isFinite(seeds)) return 'seeds must be a number';
  if (!Number.isInteger(seeds)) return 'seeds must be a whole number';
  if (seeds < 1) return 'seeds must be at least 1';
  if (seeds > 20) return 'seeds must be at most 20';
  return '';
}

export function parseTags(s: string): string[] {
  return [
    ...new Set(
      s
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/** Only the schema's own keys, with defaults for missing ones (a stored config may predate a field). */
export function configFromRun(stored: Record<string, unknown>): SyntheticConfig {
  const out: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const k of Object.keys(DEFAULT_CONFIG)) if (k in stored) out[k] = stored[k];
  const res = SyntheticConfigSchema.safeParse(out);
  return res.success ? res.data : (out as SyntheticConfig);
}

export interface Preset {
  id: string;
  label: string;
  help: string;
  apply(f: LaunchForm): void;
}

export const PRESETS: Preset[] = [
  {
    id: 'figure2',
    label: 'Figure 2 run',
    help: 'MLP, no mask, DPO vs bDPO side by side: watch π concentrate (or not) on the diagonal',
    apply(f) {
      Object.assign(f.config, { ...DEFAULT_CONFIG, model: 'mlp', mask: 0 });
      f.losses = ['dpo', 'bdpo'];
      f.customs = [];
      f.seeds = 1;
      f.name = 'Figure 2';
    },
  },
  {
    id: 'quick',
    label: 'Quick DPO run',
    help: '200 steps after a 50-step warm-up: a first look in seconds',
    apply(f) {
      Object.assign(f.config, { ...DEFAULT_CONFIG, steps: 200, refSteps: 50 });
      f.losses = ['dpo'];
      f.customs = [];
      f.seeds = 1;
      f.name = '';
    },
  },
];

export const TABLE1 = {
  losses: PAPER_LOSSES as LossName[],
  masks: [...TABLE1_MASKS] as number[],
  defaultSeeds: 5,
};
