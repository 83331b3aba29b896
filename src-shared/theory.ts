/**
 * The Figure 1 explorer's inputs, outputs and the paper's three settings (paper §4.2, Lemma 2, Theorem 2;
 * spec: synthetic.md § Theory explorer). The computation lives in the engine; these shapes are the contract.
 */
import { z } from 'zod';

export const THEORY_SAMPLINGS = ['uniform', 'shiftless'] as const;
export type TheorySampling = (typeof THEORY_SAMPLINGS)[number];

export const TheoryInputSchema = z
  .object({
    /** centre of the model distribution p */
    muP: z
      .number({ error: 'muP must be a number' })
      .finite()
      .default(45)
      .meta({ label: 'μP', group: 'Explorer', help: 'mean of the model distribution P', flag: '--mu-p' }),
    /** centre of the utility q */
    muQ: z
      .number({ error: 'muQ must be a number' })
      .finite()
      .default(55)
      .meta({ label: 'μQ', group: 'Explorer', help: 'mean of the utility Q', flag: '--mu-q' }),
    /** σ² of both Gaussians */
    variance: z
      .number({ error: 'variance must be a number' })
      .finite()
      .positive('variance must be > 0')
      .default(100)
      .meta({ label: 'σ²', group: 'Explorer', help: 'variance σ² of both', flag: '--var' }),
    /** number of responses N (A = {0..N−1}) */
    n: z
      .number({ error: 'n must be an integer' })
      .int('n must be an integer')
      .min(2, 'n must be at least 2')
      .max(5000, 'n must be at most 5000')
      .default(100)
      .meta({ label: 'N', group: 'Explorer', help: 'number of responses' }),
    sampling: z
      .enum(THEORY_SAMPLINGS, { error: 'sampling must be "uniform" or "shiftless"' })
      .default('uniform')
      .meta({ label: 'sampling', group: 'Explorer', help: 'how pairs are drawn' }),
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
