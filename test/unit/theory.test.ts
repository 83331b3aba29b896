import { describe, expect, it } from 'vitest';
import { computeTheory } from '../../src-main/engine/synthetic/theory';
import { FIGURE1_PRESETS, TheoryInputSchema } from '@shared/theory';

/** Independent brute force: unnormalised densities, the full N×N summand matrix, then row sums. */
function bruteForce(muP: number, muQ: number, variance: number, n: number, shiftless: boolean) {
  const pu: number[] = [];
  const qu: number[] = [];
  for (let i = 0; i < n; i++) {
    pu.push(Math.exp(-((i - muP) ** 2) / (2 * variance)));
    qu.push(Math.exp(-((i - muQ) ** 2) / (2 * variance)));
  }
  const zp = pu.reduce((a, b) => a + b, 0);
  const zq = qu.reduce((a, b) => a + b, 0);
  const p = pu.map((x) => x / zp);
  const q = qu.map((x) => x / zq);
  const M: number[][] = [];
  for (let i = 0; i < n; i++) {
    M.push([]);
    for (let j = 0; j < n; j++) {
      const s = i === j ? 0 : (q[i] * p[j] - q[j] * p[i]) / ((q[i] + q[j]) * (p[i] + p[j]));
      M[i].push(shiftless ? s * p[i] * p[j] : s);
    }
  }
  const w = M.map((row) => row.reduce((a, b) => a + b, 0));
  return { p, q, w };
}

const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
const argmin = (xs: number[]) => xs.indexOf(Math.min(...xs));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('computeTheory', () => {
  it('matches a brute-force double loop for both samplings', () => {
    for (const [muP, muQ, v, n] of [
      [45, 55, 100, 100],
      [3, 7, 4, 12],
      [10, 2, 9, 15],
    ]) {
      for (const sampling of ['uniform', 'shiftless'] as const) {
        const r = computeTheory({ muP, muQ, variance: v, n, sampling });
        const b = bruteForce(muP, muQ, v, n, sampling === 'shiftless');
        expect(r.w.length).toBe(n);
        for (let i = 0; i < n; i++) {
          expect(r.p[i]).toBeCloseTo(b.p[i], 14);
          expect(r.q[i]).toBeCloseTo(b.q[i], 14);
          expect(Math.abs(r.w[i] - b.w[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(b.w[i])));
          expect(r.wp[i]).toBeCloseTo(b.w[i] * b.p[i], 12);
        }
        const sWP = sum(b.w.map((w, j) => w * b.p[j]));
        const sWP2 = sum(b.w.map((w, j) => w * b.p[j] * b.p[j]));
        for (let i = 0; i < n; i++) {
          expect(r.dpDpo[i]).toBeCloseTo(b.p[i] * (b.w[i] - sWP), 12);
          expect(r.dpBalanced[i]).toBeCloseTo(b.p[i] * (b.w[i] * b.p[i] - sWP2), 12);
        }
      }
    }
  });

  it('gives w ≈ 0 when the model already matches the utility (μP = μQ)', () => {
    for (const sampling of ['uniform', 'shiftless'] as const) {
      const r = computeTheory({ muP: 40, muQ: 40, variance: 100, n: 100, sampling });
      for (const w of r.w) expect(Math.abs(w)).toBeLessThan(1e-12);
    }
  });

  it('keeps Σ Δp = 0 (the updates only move probability around)', () => {
    for (const preset of FIGURE1_PRESETS) {
      for (const sampling of ['uniform', 'shiftless'] as const) {
        const r = computeTheory({ ...preset.input, sampling });
        expect(Math.abs(sum(r.dpDpo))).toBeLessThan(1e-12);
        expect(Math.abs(sum(r.dpBalanced))).toBeLessThan(1e-12);
        expect(sum(r.p)).toBeCloseTo(1, 14);
      }
    }
  });

  it('puts DPO’s largest weights in the tails, beyond both modes (Figure 1, μP = 45, μQ = 55)', () => {
    const r = computeTheory({ muP: 45, muQ: 55, variance: 100, n: 100, sampling: 'uniform' });
    // summand sign = sign(q_i/p_i − q_j/p_j) and q/p grows with i, so w changes sign once, at the midpoint
    expect(r.w.findIndex((w) => w > 0)).toBe(50);
    expect(Math.abs(r.w[50])).toBeLessThan(0.3);
    // DPO: extremes far out in the tails, where the model puts almost no mass
    expect(argmax(r.w)).toBeGreaterThan(70);
    expect(argmin(r.w)).toBeLessThan(30);
    expect(argmax(r.w) + argmin(r.w)).toBe(100); // symmetric about the midpoint (A is 0..99)
    expect(r.p[argmax(r.w)]).toBeLessThan(1e-3);
    // balanced (w·p): extremes pulled back next to the modes
    expect(Math.abs(argmax(r.wp) - 55)).toBeLessThanOrEqual(5);
    expect(Math.abs(argmin(r.wp) - 45)).toBeLessThanOrEqual(10);
    // both raise probability around the utility's mode and lower it around the model's
    expect(Math.abs(argmax(r.dpDpo) - 55)).toBeLessThanOrEqual(5);
    expect(Math.abs(argmax(r.dpBalanced) - 55)).toBeLessThanOrEqual(5);
    expect(argmin(r.dpDpo)).toBeLessThan(45);
  });

  it('validates its input and fills defaults', () => {
    // With nothing given, the explorer opens on the paper's first Figure 1 panel.
    expect(TheoryInputSchema.parse({})).toMatchObject(FIGURE1_PRESETS[0].input);
    expect(TheoryInputSchema.safeParse({ n: 1 }).error?.issues[0].message).toBe('n must be at least 2');
    expect(TheoryInputSchema.safeParse({ variance: 0 }).error?.issues[0].message).toBe('variance must be > 0');
    expect(TheoryInputSchema.safeParse({ sampling: 'x' }).success).toBe(false);
    expect(() => computeTheory({ n: 1 })).toThrow();
    // Every preset is an input the schema takes as it is, and computes without NaN.
    for (const p of FIGURE1_PRESETS) {
      expect(TheoryInputSchema.parse(p.input)).toMatchObject(p.input);
      for (const x of computeTheory(p.input).w) expect(Number.isFinite(x)).toBe(true);
    }
    expect(new Set(FIGURE1_PRESETS.map((p) => p.id)).size).toBe(FIGURE1_PRESETS.length);
  });

  it('does not underflow to NaN for far-apart centres', () => {
    const r = computeTheory({ muP: 0, muQ: 99, variance: 1, n: 100, sampling: 'uniform' });
    for (const xs of [r.w, r.wp, r.dpDpo, r.dpBalanced, r.p, r.q]) for (const x of xs) expect(Number.isFinite(x)).toBe(true);
  });
});
