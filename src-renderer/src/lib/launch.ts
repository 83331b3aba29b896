/** The launcher's knowledge of SyntheticConfig: labels, groups, help, and the presets the paper needs. */
import {
  SyntheticConfigSchema,
  defaultSyntheticConfig,
  type SyntheticConfig,
} from '../../../src-main/engine/synthetic/config';
import { LOSS_NAMES, PAPER_LOSSES, type LossName } from '../../../src-main/engine/losses/names';
import { TABLE1_MASKS } from './metrics';

export { LOSS_NAMES, PAPER_LOSSES, type LossName, type SyntheticConfig };

export type ConfigKey = Exclude<keyof SyntheticConfig, 'loss'>;

export interface FieldMeta {
  key: ConfigKey;
  label: string;
  kind: 'int' | 'float' | 'select';
  options?: readonly string[];
  min?: number;
  max?: number;
  step?: number;
  help: string;
  /** shown only when this returns true for the current config */
  when?: (c: Partial<SyntheticConfig>) => boolean;
}

export const FIELD_GROUPS: { title: string; fields: FieldMeta[] }[] = [
  {
    title: 'Task',
    fields: [
      { key: 'K', label: 'K', kind: 'int', min: 2, max: 512, help: 'prompts = responses; best response y = x' },
      { key: 'alpha', label: 'α', kind: 'float', min: 0, step: 0.1, help: 'utility u(y|x) = exp(−α (y−x)²)' },
      { key: 'mask', label: 'mask', kind: 'float', min: 0, max: 0.99, step: 0.05, help: 'fraction of (x, y) cells never in the data (OOD)' },
      { key: 'pairsPerPrompt', label: 'pairs / prompt', kind: 'int', min: 1, help: 'preference pairs drawn per prompt' },
      { key: 'seed', label: 'seed', kind: 'int', min: 0, help: 'model init, dataset and batches' },
    ],
  },
  {
    title: 'Model',
    fields: [
      { key: 'model', label: 'model', kind: 'select', options: ['mlp', 'table'], help: 'mlp: one-hot → tanh(hidden) → K logits; table: free K×K logits' },
      { key: 'hidden', label: 'hidden', kind: 'int', min: 1, help: 'MLP width', when: (c) => c.model !== 'table' },
    ],
  },
  {
    title: 'Training',
    fields: [
      { key: 'steps', label: 'steps', kind: 'int', min: 1, help: 'training steps with the chosen loss' },
      { key: 'refSteps', label: 'warm-up steps', kind: 'int', min: 0, help: 'DPO warm-up; its result is πref' },
      { key: 'lr', label: 'learning rate', kind: 'float', min: 0, step: 0.001, help: 'Adam; state reset after warm-up' },
      { key: 'batchSize', label: 'batch size', kind: 'int', min: 0, help: 'pairs per step; 0 = full dataset' },
      { key: 'evalEvery', label: 'eval every', kind: 'int', min: 1, help: 'steps between K×K evaluations (heatmap frames)' },
      { key: 'logEvery', label: 'log every', kind: 'int', min: 1, help: 'steps between logged metric rows' },
    ],
  },
  {
    title: 'Loss',
    fields: [
      { key: 'beta', label: 'β', kind: 'float', min: 0, step: 0.1, help: 'inverse temperature' },
      { key: 'clip', label: 'clip Δmax', kind: 'float', min: 0, step: 0.1, help: 'λ clip for nbDPO; λ ∈ [1, 1+Δmax]' },
      { key: 'labelSmoothing', label: 'label smoothing ε', kind: 'float', min: 0, max: 0.49, step: 0.01, help: 'cdpo only' },
    ],
  },
];

export const DEFAULT_CONFIG: SyntheticConfig = defaultSyntheticConfig();

export interface LaunchForm {
  config: SyntheticConfig;
  losses: LossName[];
  seeds: number;
  name: string;
  tags: string;
}

export function freshForm(): LaunchForm {
  return { config: { ...DEFAULT_CONFIG }, losses: ['dpo'], seeds: 1, name: '', tags: '' };
}

/** The zod issue fields plainMessage reads (zod 4's issue union, loosely). */
interface IssueLike {
  code: string;
  message: string;
  expected?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
}

/**
 * A message fit for the launcher: the schema's own wording when it names the field, else the library's generic
 * text ("Invalid input: expected int, received number", "Too small: expected number to be >0") rephrased in
 * plain words that name the field ("K must be a whole number", "lr must be greater than 0", "K must be at most 512").
 */
export function plainMessage(field: string, i: IssueLike): string {
  const generic = /^(invalid input|too small|too big|invalid)\b/i.test(i.message) || !i.message.trim();
  if (!generic) return i.message;
  const n = (v: unknown) => (typeof v === 'bigint' ? Number(v) : Number(v));
  switch (i.code) {
    case 'invalid_type':
      return i.expected === 'int' ? `${field} must be a whole number` : `${field} must be a number`;
    case 'too_small': {
      const m = n(i.minimum);
      return i.inclusive === false ? `${field} must be greater than ${m}` : `${field} must be at least ${m}`;
    }
    case 'too_big': {
      const m = n(i.maximum);
      return i.inclusive === false ? `${field} must be less than ${m}` : `${field} must be at most ${m}`;
    }
    case 'not_multiple_of':
      return `${field} must be a whole number`;
    case 'invalid_value':
    case 'invalid_enum_value':
      return `${field} has a value the lab does not know`;
    default:
      return `${field} is not valid`;
  }
}

/** Client-side validation with the same schema the lab uses; keys are the lab's paths ("config.lr"). */
export function validateForm(f: LaunchForm): Record<string, string> {
  const errors: Record<string, string> = {};
  const res = SyntheticConfigSchema.safeParse(f.config);
  if (!res.success) {
    for (const i of res.error.issues) {
      const p = ['config', ...i.path.map(String)].join('.');
      errors[p] ??= plainMessage(String(i.path[i.path.length - 1] ?? 'value'), i as unknown as IssueLike);
    }
  }
  for (const [k, v] of Object.entries(f.config)) {
    if (typeof v === 'number' && Number.isNaN(v)) errors[`config.${k}`] = 'enter a number';
    if ((v as unknown) === '' || v === null) errors[`config.${k}`] = 'required';
  }
  if (!f.losses.length) errors.losses = 'pick at least one loss';
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
