import { z } from 'zod';
import { LOSS_NAMES } from '../losses/names';

/**
 * One synthetic run's configuration: the single schema for CLI flags, IPC, HTTP and stored configs.
 * Defaults follow ../shared/specs/synthetic.md; every field the paper leaves open is a field here.
 */
/** A whole number with bounds, whose messages name the field (they appear in the UI, the CLI and the API). */
const whole = (field: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: `${field} must be a number` })
    .int(`${field} must be a whole number`)
    .min(min, min === 1 ? `${field} must be at least 1` : `${field} must be at least ${min}`)
    .max(max, `${field} must be at most ${max}`);
const positive = (field: string) => z.number({ error: `${field} must be a number` }).positive(`${field} must be positive`);

export const SyntheticConfigSchema = z
  .object({
    loss: z.enum(LOSS_NAMES, {
      error: (iss) => `unknown loss ${JSON.stringify(iss.input)}; valid losses: ${LOSS_NAMES.join(', ')}`,
    }).default('dpo'),
    model: z.enum(['mlp', 'table'], { error: 'model must be "mlp" or "table"' }).default('mlp'),
    K: whole('K', 2, 512).default(20),
    alpha: positive('alpha').default(0.6),
    mask: z.number({ error: 'mask must be a number' }).min(0, 'mask must be in [0, 1)').lt(1, 'mask must be in [0, 1)').default(0),
    seed: whole('seed', 0).default(0),
    steps: whole('steps', 1).default(1000),
    refSteps: whole('refSteps', 0).default(300),
    lr: positive('lr').default(1e-2),
    batchSize: whole('batchSize', 0).default(64),
    pairsPerPrompt: whole('pairsPerPrompt', 1).default(100),
    hidden: whole('hidden', 1, 4096).default(64),
    beta: positive('beta').default(1),
    clip: positive('clip').default(0.5),
    labelSmoothing: z
      .number({ error: 'labelSmoothing must be a number' })
      .min(0, 'labelSmoothing must be in [0, 0.5)')
      .lt(0.5, 'labelSmoothing must be in [0, 0.5)')
      .default(0),
    evalEvery: whole('evalEvery', 1).default(10),
    logEvery: whole('logEvery', 1).default(1),
  })
  .strict();

export type SyntheticConfig = z.output<typeof SyntheticConfigSchema>;
export type SyntheticConfigInput = z.input<typeof SyntheticConfigSchema>;

export function defaultSyntheticConfig(): SyntheticConfig {
  return SyntheticConfigSchema.parse({});
}
