import { z } from 'zod';
import { LOSS_CHOICES } from './losses';
import { CustomLossSpecSchema, checkCustomLossChoice } from './custom-losses';

/**
 * One synthetic run's configuration: the single schema for CLI flags, IPC, HTTP, stored configs and the
 * launcher's form. Defaults follow ../shared/specs/synthetic.md; every field the paper leaves open is a field
 * here. Each field's metadata (label, group, help) feeds the launcher and the CLI's flags and --help, so a
 * field added here shows up everywhere with the same bounds and wording.
 */
export interface FieldMetaInfo {
  /** short label in the launcher */
  label: string;
  /** launcher section */
  group: 'Task' | 'Model' | 'Data' | 'Training' | 'Loss' | 'LoRA' | 'Explorer';
  /** one line for the launcher's tooltip and the CLI's --help */
  help: string;
  /** the CLI flag, when it is not the field name in kebab case */
  flag?: string;
  /** UI step for number inputs */
  step?: number;
}
const info = (m: FieldMetaInfo) => m as unknown as Record<string, unknown>;

/** The `loss` field's help, shared by both run configs. */
export const LOSS_HELP = `loss: ${LOSS_CHOICES.join(', ')} (custom: a formula, --loss-formula)`;
export const unknownLossChoiceMessage = (input: unknown) =>
  `unknown loss ${JSON.stringify(input)}; valid losses: ${LOSS_CHOICES.join(', ')} (custom needs customLoss: { name, formula })`;

/** A whole number with bounds, whose messages name the field (they appear in the UI, the CLI and the API). */
export const whole = (field: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: `${field} must be a number` })
    .int(`${field} must be a whole number`)
    .min(min, min === 1 ? `${field} must be at least 1` : `${field} must be at least ${min}`)
    .max(max, `${field} must be at most ${max}`);
const positive = (field: string) => z.number({ error: `${field} must be a number` }).positive(`${field} must be positive`);

/**
 * The fields alone (no cross-field rule), for `.partial()` and `.shape`: zod refuses `.partial()` on a refined
 * object. Anything that validates a whole config uses SyntheticConfigSchema.
 */
export const SyntheticConfigFields = z
  .object({
    loss: z
      .enum(LOSS_CHOICES, { error: (iss) => unknownLossChoiceMessage(iss.input) })
      .default('dpo')
      .meta(info({ label: 'loss', group: 'Loss', help: LOSS_HELP })),
    /** loss 'custom' only: the formula loss (src-shared/formula), stored with the run */
    customLoss: CustomLossSpecSchema.optional(),
    model: z
      .enum(['mlp', 'table'], { error: 'model must be "mlp" or "table"' })
      .default('mlp')
      .meta(info({ label: 'model', group: 'Model', help: 'mlp: one-hot → tanh(hidden) → K logits; table: free K×K logits' })),
    K: whole('K', 2, 512)
      .default(20)
      .meta(info({ label: 'K', group: 'Task', help: 'prompts = responses; best response y = x' })),
    alpha: positive('alpha')
      .default(0.6)
      .meta(info({ label: 'α', group: 'Task', help: 'utility sharpness: u(y|x) = exp(−α (y−x)²)', step: 0.1 })),
    mask: z
      .number({ error: 'mask must be a number' })
      .min(0, 'mask must be in [0, 1)')
      .lt(1, 'mask must be in [0, 1)')
      .default(0)
      .meta(info({ label: 'mask', group: 'Task', help: 'fraction of (x, y) cells never in the data (OOD), in [0, 1)', step: 0.05 })),
    seed: whole('seed', 0, 2 ** 31 - 1)
      .default(0)
      .meta(info({ label: 'seed', group: 'Task', help: 'model init, dataset and batches' })),
    steps: whole('steps', 1, 1_000_000)
      .default(1000)
      .meta(info({ label: 'steps', group: 'Training', help: 'training steps with the chosen loss' })),
    refSteps: whole('refSteps', 0, 1_000_000)
      .default(300)
      .meta(info({ label: 'warm-up steps', group: 'Training', help: 'DPO warm-up steps that make the reference πref' })),
    lr: positive('lr')
      .default(1e-2)
      .meta(info({ label: 'learning rate', group: 'Training', help: 'Adam learning rate; state reset after warm-up', step: 0.001 })),
    batchSize: whole('batchSize', 0, 100_000)
      .default(64)
      .meta(info({ label: 'batch size', group: 'Training', help: 'pairs per step; 0 = full dataset' })),
    pairsPerPrompt: whole('pairsPerPrompt', 1, 100_000)
      .default(100)
      .meta(info({ label: 'pairs / prompt', group: 'Task', help: 'preference pairs drawn per prompt' })),
    hidden: whole('hidden', 1, 4096)
      .default(64)
      .meta(info({ label: 'hidden', group: 'Model', help: 'MLP width' })),
    beta: positive('beta')
      .default(1)
      .meta(info({ label: 'β', group: 'Loss', help: 'inverse temperature β', step: 0.1 })),
    clip: positive('clip')
      .default(0.5)
      .meta(info({ label: 'clip Δmax', group: 'Loss', help: 'λ clip for nbDPO; λ ∈ [1, 1+Δmax]', step: 0.1 })),
    labelSmoothing: z
      .number({ error: 'labelSmoothing must be a number' })
      .min(0, 'labelSmoothing must be in [0, 0.5)')
      .lt(0.5, 'labelSmoothing must be in [0, 0.5)')
      .default(0)
      .meta(info({ label: 'label smoothing ε', group: 'Loss', help: 'cdpo ε (conservative DPO), in [0, 0.5)', step: 0.01 })),
    evalEvery: whole('evalEvery', 1, 1_000_000)
      .default(10)
      .meta(info({ label: 'eval every', group: 'Training', help: 'steps between K×K evaluations (heatmap frames)' })),
    logEvery: whole('logEvery', 1, 1_000_000)
      .default(1)
      .meta(info({ label: 'log every', group: 'Training', help: 'steps between logged metric rows' })),
  })
  .strict();

export const SyntheticConfigSchema = SyntheticConfigFields.superRefine(checkCustomLossChoice);

export type SyntheticConfig = z.output<typeof SyntheticConfigSchema>;
export type SyntheticConfigInput = z.input<typeof SyntheticConfigSchema>;

export function defaultSyntheticConfig(): SyntheticConfig {
  return SyntheticConfigSchema.parse({});
}

/**
 * The largest synthetic dataset file the lab reads (`run synthetic --dataset`, the launcher), refused before it
 * is read: 32 MiB holds about 4 million pairs, two thousand times the default dataset (20 prompts × 100 pairs).
 */
export const MAX_DATASET_FILE_BYTES = 32 * 1024 * 1024;
/** The most pairs a dataset may carry however it arrives (an API body has no file size to check). */
export const MAX_DATASET_PAIRS = 5_000_000;
