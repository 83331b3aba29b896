/**
 * The statistics behind `lab stats`, against values that do not come from this code: closed forms of the t
 * distribution, printed t tables, binomial sums, and Welch's worked examples (Wikipedia, "Welch's t-test",
 * examples 1 and 2: t, df, p as printed there, to the digits printed).
 */
import { describe, expect, it } from 'vitest';
import {
  bootstrapMeanCi,
  holmAdjust,
  incompleteBeta,
  lnGamma,
  studentTCdf,
  studentTQuantile,
  studentTTwoSided,
  summarize,
  welchTTest,
} from '../../src-shared/stats';

describe('special functions', () => {
  it('lnGamma matches factorials and Γ(1/2) = √π', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });

  it('incompleteBeta matches binomial sums and the arcsine law', () => {
    // I_p(k, n−k+1) = P(Binomial(n, p) ≥ k): I_0.5(2, 3) = P(Bin(4, ½) ≥ 2) = 11/16
    expect(incompleteBeta(0.5, 2, 3)).toBeCloseTo(11 / 16, 14);
    // P(Bin(10, 0.3) ≥ 3) = 1 − (0.7^10 + 10·0.3·0.7^9 + 45·0.09·0.7^8)
    const tail = 1 - (0.7 ** 10 + 10 * 0.3 * 0.7 ** 9 + 45 * 0.09 * 0.7 ** 8);
    expect(incompleteBeta(0.3, 3, 8)).toBeCloseTo(tail, 13);
    // I_x(½, ½) = (2/π) asin(√x)
    for (const x of [0.01, 0.3, 0.5, 0.97]) expect(incompleteBeta(x, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 13);
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
    expect(() => incompleteBeta(1.5, 2, 3)).toThrow(/x must be in \[0, 1\], got 1.5/);
  });
});

describe('Student t', () => {
  it('CDF matches the closed forms for df = 1 (Cauchy) and df = 2', () => {
    for (const t of [-30, -2.5, -0.3, 0, 0.7, 4, 100]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 13);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 13);
    }
  });

  it('quantiles match a printed t table (two-sided 95%)', () => {
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [9, 2.262],
      [14, 2.145],
      [30, 2.042],
      [120, 1.98],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
    // and to full precision where the inverse of the closed form is known: df = 1 is tan(π(p − ½))
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(Math.PI * 0.475), 10);
    expect(studentTQuantile(0.025, 9)).toBeCloseTo(-2.262157, 6);
    expect(studentTQuantile(0.975, 4.5)).toBeCloseTo(2.658912, 5);
  });

  it('two-sided p keeps tiny tails and agrees with the CDF', () => {
    expect(studentTTwoSided(2.5, 3.7)).toBeCloseTo(2 * studentTCdf(-2.5, 3.7), 14);
    expect(studentTTwoSided(0, 7)).toBe(1);
    // P(|T_20| ≥ 40) ≈ 1.457e-20: far below what 1 − CDF could represent
    const p = studentTTwoSided(40, 20);
    expect(p).toBeGreaterThan(1e-21);
    expect(p).toBeLessThan(1e-19);
  });
});

describe('summaries, Welch, Holm, bootstrap', () => {
  // Wikipedia, Welch's t-test, example 1 (equal sizes, unequal variances): t = −2.46, df = 25.0, p = 0.021
  const A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  // example 2 (unequal sizes and variances): t = −1.57, df = 9.9, p = 0.149
  const B1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
  const B2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8];

  it('Welch reproduces the textbook examples', () => {
    const r1 = welchTTest(A1, A2)!;
    expect(r1.t).toBeCloseTo(-2.46, 2);
    expect(r1.df).toBeCloseTo(25.0, 1);
    expect(r1.p).toBeCloseTo(0.021, 3);
    const r2 = welchTTest(B1, B2)!;
    expect(r2.t).toBeCloseTo(-1.57, 2);
    expect(r2.df).toBeCloseTo(9.9, 1);
    expect(r2.p).toBeCloseTo(0.149, 3);
    // swapping the samples flips t only
    const r3 = welchTTest(B2, B1)!;
    expect(r3.t).toBeCloseTo(-r2.t, 12);
    expect(r3.p).toBeCloseTo(r2.p, 12);
  });

  it('Welch is undefined without two values per side or without any spread', () => {
    expect(welchTTest([1], [2, 3])).toBeNull();
    expect(welchTTest([1, 1], [2, 2])).toBeNull();
  });

  it('summarize gives the t-interval of the mean worked by hand', () => {
    // 1, 2, 3, 4, 5: mean 3, s = √2.5, half-width = 2.776445 · √2.5 / √5 = 1.963243
    const s = summarize([1, 2, 3, 4, 5]);
    expect(s.n).toBe(5);
    expect(s.mean).toBe(3);
    expect(s.std).toBeCloseTo(Math.sqrt(2.5), 14);
    expect(s.ci95![0]).toBeCloseTo(3 - 1.963243, 5);
    expect(s.ci95![1]).toBeCloseTo(3 + 1.963243, 5);
    const a = summarize(A1);
    expect(a.ci95![0]).toBeCloseTo(19.2667, 4);
    expect(a.ci95![1]).toBeCloseTo(22.3733, 4);
    expect(summarize([4])).toEqual({ n: 1, mean: 4, std: null, ci95: null });
  });

  it('Holm: sorted p times (m − rank), made monotone, capped at 1, nulls skipped', () => {
    // 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → raised to 0.06
    const adj = holmAdjust([0.01, 0.04, 0.03]);
    expect(adj[0]).toBeCloseTo(0.03, 15);
    expect(adj[1]).toBeCloseTo(0.06, 15);
    expect(adj[2]).toBeCloseTo(0.06, 15);
    expect(holmAdjust([0.6, null, 0.2])).toEqual([0.6, null, 0.4]);
    expect(holmAdjust([0.9, 0.8])).toEqual([1, 1]);
  });

  it('bootstrap intervals are seeded: same seed same interval, and they bracket the mean', () => {
    const a = bootstrapMeanCi(A1, { resamples: 2000, seed: 7 })!;
    expect(bootstrapMeanCi(A1, { resamples: 2000, seed: 7 })).toEqual(a);
    expect(bootstrapMeanCi(A1, { resamples: 2000, seed: 8 })).not.toEqual(a);
    const m = summarize(A1);
    expect(a[0]).toBeLessThan(m.mean);
    expect(a[1]).toBeGreaterThan(m.mean);
    // the percentile interval is a little narrower than the t-interval at n = 15, but of the same size
    const tWidth = m.ci95![1] - m.ci95![0];
    expect(a[1] - a[0]).toBeGreaterThan(0.6 * tWidth);
    expect(a[1] - a[0]).toBeLessThan(1.2 * tWidth);
    expect(bootstrapMeanCi([1], { resamples: 100, seed: 1 })).toBeNull();
  });
});
