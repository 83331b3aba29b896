/** What the UI knows about metric names: labels and which way is better. */

/** +1: higher is better, −1: lower is better, 0: closest to zero is better (balance), null: no ordering. */
export const METRIC_DIRECTION: Record<string, 1 | -1 | 0 | null> = {
  expectedUtility: 1,
  expectedUtilityNormalized: 1,
  pBest: 1,
  oodMass: -1,
  klToRef: null,
  loss: -1,
  'rewards/accuracies': 1,
  'rewards/margins': 1,
  'rewards/chosen': null,
  'rewards/rejected': null,
  'logps/chosen': null,
  'logps/rejected': null,
  // a diagnostic, not a score: a run nearer balance is not thereby better (the paper's point is what imbalance does
  // to R), so no value of it is marked best
  'balance/log10_prob_ratio': null,
  'balance/logp_grad_ratio': null,
  grad_norm: null,
  learning_rate: null,
};

/** Metrics shown first in tables and compare views, in this order; others follow alphabetically. */
export const PREFERRED_METRICS = [
  'expectedUtility',
  'expectedUtilityNormalized',
  'pBest',
  'oodMass',
  'klToRef',
  'loss',
  'rewards/margins',
  'rewards/accuracies',
  'balance/log10_prob_ratio',
  'balance/logp_grad_ratio',
  'logps/chosen',
  'logps/rejected',
  'rewards/chosen',
  'rewards/rejected',
  'grad_norm',
];

export function orderMetrics(names: Iterable<string>): string[] {
  const set = new Set(names);
  const first = PREFERRED_METRICS.filter((n) => set.has(n));
  const rest = [...set].filter((n) => !PREFERRED_METRICS.includes(n)).sort();
  return [...first, ...rest];
}

/**
 * Index of the best value in a column; −1 when the metric has no ordering, or when the best is tied at the
 * shown precision (bold on one of several equal numbers would mislead).
 */
export function bestIndex(name: string, values: (number | null | undefined)[], digits = 3): number {
  const dir = METRIC_DIRECTION[name];
  if (dir === null || dir === undefined) return -1;
  let best = -1;
  let bestScore = -Infinity;
  let tied = false;
  const round = (x: number) => Number(x.toFixed(digits));
  values.forEach((v, i) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    const score = round(dir === 0 ? -Math.abs(v) : dir * v);
    if (score > bestScore) {
      bestScore = score;
      best = i;
      tied = false;
    } else if (score === bestScore) tied = true;
  });
  return tied ? -1 : best;
}

/** TensorBoard's smoothing: a debiased exponential moving average that skips missing values. */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

/** A run's mask rate, from its config (run summaries carry it; a run's name is free text and may not). */
export function maskOf(r: { config?: Record<string, unknown> }): number | null {
  const m = r.config?.mask;
  return typeof m === 'number' ? m : null;
}
