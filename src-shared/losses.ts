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

/** A custom loss as stored in a run config: its display name and its formula (src-shared/formula). */
export interface CustomLossSpec {
  name: string;
  formula: string;
}

/** A run's loss as shown to people: the custom loss's name for custom runs, else the built-in's name. */
export function lossLabel(config: { loss: string; customLoss?: CustomLossSpec | null }): string {
  return config.loss === 'custom' && config.customLoss ? config.customLoss.name : config.loss;
}
