/**
 * A loss formula's balance profile before any run (the paper's Definition 1): at π = π_ref, how hard the loss
 * pushes π(y_w) up against how hard it pushes π(y_l) down, as log10(|∂L/∂π_w| / |∂L/∂π_l|) over a grid of
 * (π_w, π_l). The formula gives ∂L/∂log π; ∂L/∂π = (∂L/∂log π) / π. Positive: more push on the chosen response.
 */
import { evaluateFormula, type Formula, type FormulaPoint } from '@shared/formula';

/** Grid points i/GRID_DIVISIONS for i = 1 … GRID_DIVISIONS − 1: 0.02 … 0.98, inside (0, 1). */
export const GRID_DIVISIONS = 50;
export const GRID_PROBS: readonly number[] = Array.from({ length: GRID_DIVISIONS - 1 }, (_, i) => (i + 1) / GRID_DIVISIONS);

/** Where a colour scale of the balance ends: 10^±3 already means one side gets all the push. */
export const BALANCE_LIMIT = 3;

export interface BalanceProfile {
  probs: readonly number[];
  /** [π_w index, π_l index, log10 ratio or null where both gradients vanish or a value is not finite] */
  cells: [number, number, number | null][];
  /** largest finite |log10 ratio| on the grid */
  maxAbs: number;
}

/** log10(|∂L/∂π_w| / |∂L/∂π_l|) from the log-space gradients; null when it is 0/0 or not finite. */
export function balanceRatio(gradW: number, gradL: number, piW: number, piL: number): number | null {
  const w = Math.abs(gradW / piW);
  const l = Math.abs(gradL / piL);
  if (!(w > 0) && !(l > 0)) return null;
  const r = Math.log10(w / l);
  return Number.isNaN(r) ? null : r;
}

export function balanceProfile(f: Formula, beta: number, clip: number, probs: readonly number[] = GRID_PROBS): BalanceProfile {
  const cells: BalanceProfile['cells'] = [];
  let maxAbs = 0;
  for (let i = 0; i < probs.length; i++) {
    for (let j = 0; j < probs.length; j++) {
      const lw = Math.log(probs[i]);
      const ll = Math.log(probs[j]);
      let r: number | null;
      try {
        const g = evaluateFormula(f, { logp_w: lw, logp_l: ll, ref_w: lw, ref_l: ll, beta, clip });
        r = balanceRatio(g.grad_w, g.grad_l, probs[i], probs[j]);
      } catch {
        r = null;
      }
      if (r !== null && Number.isFinite(r)) maxAbs = Math.max(maxAbs, Math.abs(r));
      cells.push([i, j, r]);
    }
  }
  return { probs, cells, maxAbs };
}

/** A few pairs to read values off: at the reference, the spec's worked pair, and pairs already moved either way. */
export const WORKED_PAIRS: readonly { label: string; point: Omit<FormulaPoint, 'beta' | 'clip'> }[] = [
  { label: 'at the reference', point: { logp_w: Math.log(0.3), logp_l: Math.log(0.3), ref_w: Math.log(0.3), ref_l: Math.log(0.3) } },
  { label: 'spec worked pair', point: { logp_w: -2.0, logp_l: -3.0, ref_w: -2.5, ref_l: -2.8 } },
  { label: 'chosen rare, rejected likely', point: { logp_w: Math.log(0.02), logp_l: Math.log(0.6), ref_w: Math.log(0.02), ref_l: Math.log(0.6) } },
  { label: 'both pushed down', point: { logp_w: Math.log(0.05), logp_l: Math.log(0.01), ref_w: Math.log(0.2), ref_l: Math.log(0.2) } },
  { label: 'already well separated', point: { logp_w: Math.log(0.7), logp_l: Math.log(0.01), ref_w: Math.log(0.3), ref_l: Math.log(0.3) } },
];

export interface WorkedRow {
  label: string;
  point: FormulaPoint;
  loss: number;
  gradW: number;
  gradL: number;
  /** log10(|∂L/∂π_w| / |∂L/∂π_l|) at this pair */
  balance: number | null;
}

export function workedRows(f: Formula, beta: number, clip: number): WorkedRow[] {
  return WORKED_PAIRS.map(({ label, point }) => {
    const p: FormulaPoint = { ...point, beta, clip };
    const g = evaluateFormula(f, p);
    return {
      label,
      point: p,
      loss: g.loss,
      gradW: g.grad_w,
      gradL: g.grad_l,
      balance: balanceRatio(g.grad_w, g.grad_l, Math.exp(p.logp_w), Math.exp(p.logp_l)),
    };
  });
}
