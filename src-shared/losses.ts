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
