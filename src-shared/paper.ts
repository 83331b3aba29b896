/**
 * Numbers published in Ma et al. (2025), "Gradient Imbalance in Direct Preference Optimization", kept once for
 * every side: the CLI's Table 1 printout, the sweep summary and the Sweeps view all read them from here.
 */
import type { LossName } from './losses';

/** Table 1's mask rates (fraction of (prompt, response) cells never in the data). */
export const TABLE1_MASKS = [0, 0.2, 0.4] as const;

/**
 * The paper's Table 1 (Appendix B): final reward, mean over seeds, keyed by String(mask) then loss. The paper
 * does not define its "reward"; the app compares it with expectedUtilityNormalized, which is on its scale
 * (synthetic.md § Metrics: our reading), and shows the raw expectedUtility apart from it.
 */
export const PAPER_TABLE1: Readonly<Record<'0' | '0.2' | '0.4', Readonly<Partial<Record<LossName, number>>>>> = {
  '0': { dpo: 4.28, 'nbdpo-asymm': 4.56, 'nbdpo-symm': 5.4, 'nbdpo2-asymm': 3.79, 'nbdpo2-symm': 4.45, bdpo: 4.45 },
  '0.2': { dpo: 3.98, 'nbdpo-asymm': 4.46, 'nbdpo-symm': 5.3, 'nbdpo2-asymm': 4.05, 'nbdpo2-symm': 4.24, bdpo: 4.4 },
  '0.4': { dpo: 4.71, 'nbdpo-asymm': 5.02, 'nbdpo-symm': 6.15, 'nbdpo2-asymm': 4.04, 'nbdpo2-symm': 4.82, bdpo: 4.68 },
};

/** The paper's Table 1 number for (mask, loss), if it has one. */
export function paperTable1(mask: number, loss: string): number | undefined {
  return (PAPER_TABLE1 as Record<string, Record<string, number>>)[String(mask)]?.[loss];
}
