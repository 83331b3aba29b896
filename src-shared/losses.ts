/** Every loss the app offers, in display order. The order also fixes each loss's colour in the UI. */
export const LOSS_NAMES = ['dpo', 'nbdpo-asymm', 'nbdpo-symm', 'nbdpo2-asymm', 'nbdpo2-symm', 'bdpo', 'ipo', 'cdpo', 'hinge'] as const;

export type LossName = (typeof LOSS_NAMES)[number];

/** The six losses of the paper's Table 1. */
export const PAPER_LOSSES: readonly LossName[] = ['dpo', 'nbdpo-asymm', 'nbdpo-symm', 'nbdpo2-asymm', 'nbdpo2-symm', 'bdpo'];

export function isLossName(s: string): s is LossName {
  return (LOSS_NAMES as readonly string[]).includes(s);
}

export function unknownLossMessage(name: string): string {
  return `unknown loss ${JSON.stringify(name)}; valid losses: ${LOSS_NAMES.join(', ')}`;
}

/** What a run config's `loss` may be: a built-in, or 'custom' with a formula in `customLoss` (issue 11). */
export type LossChoice = LossName | 'custom';
export const LOSS_CHOICES = [...LOSS_NAMES, 'custom'] as const satisfies readonly LossChoice[];

/** A custom loss as stored in a run config: its display name and its formula (src-shared/formula). */
export interface CustomLossSpec {
  name: string;
  formula: string;
}

/**
 * The config of one run of a multi-loss launch (`losses: ['dpo', 'custom']`): the shared config with `loss` set,
 * keeping `customLoss` only for the custom run (a built-in run's config carries none).
 */
export function withLoss<T extends { loss: LossChoice; customLoss?: CustomLossSpec }>(config: T, loss: LossChoice): T {
  const { customLoss, ...rest } = config;
  return (loss === 'custom' && customLoss ? { ...rest, loss, customLoss } : { ...rest, loss }) as T;
}

/** A run's loss as shown to people: the custom loss's name for custom runs, else the built-in's name. */
export function lossLabel(config: { loss: string; customLoss?: CustomLossSpec | null }): string {
  return config.loss === 'custom' && config.customLoss ? config.customLoss.name : config.loss;
}
