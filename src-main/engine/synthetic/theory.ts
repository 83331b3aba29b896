/**
 * Figure 1 explorer (paper §4.2, Lemma 2, Theorem 2; spec: synthetic.md § Theory explorer). Plain Float64
 * JS: O(N²) for N responses, no tensors.
 */
import { z } from 'zod';

export const THEORY_SAMPLINGS = ['uniform', 'shiftless'] as const;
export type TheorySampling = (typeof THEORY_SAMPLINGS)[number];

export const TheoryInputSchema = z
  .object({
    /** centre of the model distribution p */
    muP: z.number({ error: 'muP must be a number' }).finite().default(45),
    /** centre of the utility q */
    muQ: z.number({ error: 'muQ must be a number' }).finite().default(55),
    /** σ² of both Gaussians */
    variance: z.number({ error: 'variance must be a number' }).finite().positive('variance must be > 0').default(100),
    /** number of responses N (A = {0..N−1}) */
    n: z.number({ error: 'n must be an integer' }).int('n must be an integer').min(2, 'n must be at least 2').max(5000, 'n must be at most 5000').default(100),
    sampling: z.enum(THEORY_SAMPLINGS, { error: 'sampling must be "uniform" or "shiftless"' }).default('uniform'),
  })
  .strict();

export type TheoryInput = z.output<typeof TheoryInputSchema>;

export interface TheoryResult {
  /** DPO's expected per-response update weight w_i (Lemma 2, summed over labels) */
  w: number[];
  /** balanced / PPO-like weight w_i·p_i */
  wp: number[];
  /** DPO probability update Δp_i ∝ p_i (w_i − Σ_j w_j p_j) (eq. 12) */
  dpDpo: number[];
  /** balanced probability update Δp_i ∝ p_i (w_i p_i − Σ_j w_j p_j²) (eq. 14) */
  dpBalanced: number[];
  /** model distribution p_i ∝ exp(−(i−μP)²/(2σ²)) */
  p: number[];
  /** utility q_i ∝ exp(−(i−μQ)²/(2σ²)) */
  q: number[];
}

function gaussian(n: number, mu: number, variance: number): number[] {
  // subtract the max exponent before exponentiating so far-off centres do not underflow to all zeros
  const e = Array.from({ length: n }, (_, i) => -((i - mu) ** 2) / (2 * variance));
  const m = Math.max(...e);
  const v = e.map((x) => Math.exp(x - m));
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / s);
}

export function computeTheory(input: Partial<TheoryInput> | TheoryInput): TheoryResult {
  const { muP, muQ, variance, n, sampling } = TheoryInputSchema.parse(input);
  const p = gaussian(n, muP, variance);
  const q = gaussian(n, muQ, variance);
  const shiftless = sampling === 'shiftless';
  const w = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const den = (q[i] + q[j]) * (p[i] + p[j]);
      if (den === 0) continue; // both utilities (or both probabilities) underflowed: the pair never matters
      let t = (q[i] * p[j] - q[j] * p[i]) / den;
      if (shiftless) t *= p[i] * p[j];
      s += t;
    }
    w[i] = s;
  }
  const wp = w.map((wi, i) => wi * p[i]);
  let sumWP = 0;
  let sumWP2 = 0;
  for (let j = 0; j < n; j++) {
    sumWP += w[j] * p[j];
    sumWP2 += w[j] * p[j] * p[j];
  }
  const dpDpo = p.map((pi, i) => pi * (w[i] - sumWP));
  const dpBalanced = p.map((pi, i) => pi * (w[i] * pi - sumWP2));
  return { w, wp, dpDpo, dpBalanced, p, q };
}

export interface TheoryPreset {
  id: string;
  label: string;
  /** every input but the sampling, which the explorer shows both ways */
  input: Omit<TheoryInput, 'sampling'>;
}

/** Figure 1's three settings: (μP, μQ) ∈ {(45, 55), (30, 70), (48, 52)}, σ² = 100, N = 100. */
export const FIGURE1_PRESETS: readonly TheoryPreset[] = (
  [
    [45, 55],
    [30, 70],
    [48, 52],
  ] as const
).map(([muP, muQ]) => ({
  id: `fig1-${muP}-${muQ}`,
  label: `μP = ${muP}, μQ = ${muQ}, σ² = 100`,
  input: { muP, muQ, variance: 100, n: 100 },
}));
