import { z } from 'zod';
import { SyntheticConfigSchema, type SyntheticConfig } from '../engine/synthetic/config';

/** CLI flag → config field, for the synthetic run options; also used to name flags in error messages. */
export const SYNTHETIC_FLAGS = {
  loss: '--loss',
  model: '--model',
  K: '--k',
  alpha: '--alpha',
  mask: '--mask',
  seed: '--seed',
  steps: '--steps',
  refSteps: '--ref-steps',
  lr: '--lr',
  batchSize: '--batch-size',
  pairsPerPrompt: '--pairs-per-prompt',
  hidden: '--hidden',
  beta: '--beta',
  clip: '--clip',
  labelSmoothing: '--label-smoothing',
  evalEvery: '--eval-every',
  logEvery: '--log-every',
} as const satisfies Record<keyof SyntheticConfig, string>;

const STRING_FIELDS = new Set(['loss', 'model']);

/** Commander option key (camelCase of the flag) for a config field. */
function optionKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}

/** Turns commander's string options into a validated config; errors name the flag, not the field. */
export function syntheticConfigFromFlags(opts: Record<string, unknown>): SyntheticConfig {
  const raw: Record<string, unknown> = {};
  for (const [field, flag] of Object.entries(SYNTHETIC_FLAGS)) {
    const v = opts[optionKey(flag)];
    if (v === undefined) continue;
    if (STRING_FIELDS.has(field)) raw[field] = v;
    else {
      const n = Number(v);
      if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n))
        throw new CliInputError(`${flag}: expected a number, got ${JSON.stringify(v)}`);
      raw[field] = n;
    }
  }
  const res = SyntheticConfigSchema.safeParse(raw);
  if (!res.success) throw new CliInputError(formatIssues(res.error, SYNTHETIC_FLAGS));
  return res.data;
}

export function formatIssues(err: z.ZodError, flags: Record<string, string> = {}): string {
  return err.issues
    .map((i) => {
      const field = String(i.path[0] ?? '');
      const name = flags[field] ?? (i.path.join('.') || 'input');
      return `${name}: ${i.message}`;
    })
    .join('\n');
}

export function addSyntheticOptions<T extends { option(flags: string, description: string): T }>(cmd: T): T {
  return cmd
    .option('--loss <name>', 'loss: dpo, nbdpo-asymm, nbdpo-symm, nbdpo2-asymm, nbdpo2-symm, bdpo, ipo, cdpo, hinge')
    .option('--model <kind>', 'mlp (default) or table')
    .option('--k <n>', 'prompts and responses K (default 20)')
    .option('--alpha <x>', 'utility sharpness α (default 0.6)')
    .option('--mask <x>', 'OOD mask fraction in [0, 1) (default 0)')
    .option('--seed <n>', 'seed (default 0)')
    .option('--steps <n>', 'training steps (default 1000)')
    .option('--ref-steps <n>', 'DPO warm-up steps that make the reference (default 300)')
    .option('--lr <x>', 'Adam learning rate (default 0.01)')
    .option('--batch-size <n>', 'pairs per step, 0 = full dataset (default 64)')
    .option('--pairs-per-prompt <n>', 'dataset pairs per prompt (default 100)')
    .option('--hidden <n>', 'mlp hidden size (default 64)')
    .option('--beta <x>', 'β (default 1)')
    .option('--clip <x>', 'nbDPO clip Δmax (default 0.5)')
    .option('--label-smoothing <x>', 'cdpo ε (default 0)')
    .option('--eval-every <n>', 'evaluate the full policy every N steps (default 10)')
    .option('--log-every <n>', 'log step metrics every N steps (default 1)');
}
