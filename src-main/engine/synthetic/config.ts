import { z } from 'zod';
import { LOSS_NAMES } from '../losses/names';

/**
 * One synthetic run's configuration: the single schema for CLI flags, IPC, HTTP and stored configs.
 * Defaults follow ../shared/specs/synthetic.md; every field the paper leaves open is a field here.
 */
export const SyntheticConfigSchema = z
  .object({
    loss: z.enum(LOSS_NAMES, {
      error: (iss) => `unknown loss ${JSON.stringify(iss.input)}; valid losses: ${LOSS_NAMES.join(', ')}`,
    }).default('dpo'),
    model: z.enum(['mlp', 'table']).default('mlp'),
    K: z.number().int().min(2, 'K must be at least 2').max(512).default(20),
    alpha: z.number().positive().default(0.6),
    mask: z.number().min(0, 'mask must be in [0, 1)').lt(1, 'mask must be in [0, 1)').default(0),
    seed: z.number().int().min(0).default(0),
    steps: z.number().int().positive('steps must be a positive integer').default(1000),
    refSteps: z.number().int().min(0).default(300),
    lr: z.number().positive('lr must be positive').default(1e-2),
    batchSize: z.number().int().min(0).default(64),
    pairsPerPrompt: z.number().int().positive().default(100),
    hidden: z.number().int().positive().default(64),
    beta: z.number().positive('beta must be positive').default(1),
    clip: z.number().positive('clip must be positive').default(0.5),
    labelSmoothing: z.number().min(0).lt(0.5).default(0),
    evalEvery: z.number().int().positive().default(10),
    logEvery: z.number().int().positive().default(1),
  })
  .strict();

export type SyntheticConfig = z.output<typeof SyntheticConfigSchema>;
export type SyntheticConfigInput = z.input<typeof SyntheticConfigSchema>;

export function defaultSyntheticConfig(): SyntheticConfig {
  return SyntheticConfigSchema.parse({});
}
