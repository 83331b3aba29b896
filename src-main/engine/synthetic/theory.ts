/**
 * Figure 1 explorer (paper §4.2, Lemma 2, Theorem 2; spec: synthetic.md § Theory explorer). Plain Float64
 * JS: O(N²) for N responses, no tensors.
 */
import { TheoryInputSchema, type TheoryInput, type TheoryResult } from '@shared/theory';

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
