import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertFiniteMetrics,
  balanceTerms,
  lossAndLogpGrads,
  NonFiniteMetricError,
  STANDARD_METRIC_NAMES,
  stackStandardMetrics,
  standardMetrics,
} from '../../src-main/engine/losses/diagnostics';
import { LOSS_NAMES, type LossName } from '@shared/losses';
import { getLoss, listLosses, LOSSES } from '../../src-main/engine/losses/registry';
import { negLogSigmoid, stopGradient } from '../../src-main/engine/losses/stopGradient';
import type { LossHyper, LossInputs } from '../../src-main/engine/losses/types';

// ---------------------------------------------------------------------------------------------------------
// Independent Float64 re-implementation, written from losses.md in the paper's own form (not the rearranged
// forms the tfjs code uses). Stop-gradient terms are evaluated at a frozen base point, so central
// differences of these functions are exactly what autodiff with the spec's stop-gradients must return.
// ---------------------------------------------------------------------------------------------------------
interface Pair {
  lw: number;
  ll: number;
  refW: number;
  refL: number;
}
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const nls = (z: number) => softplus(-z); // −log σ(z)
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function lambdaRef(lw: number, ll: number, clip: number, symmetric: boolean): number {
  const dmin = symmetric ? 1 / (1 + clip) - 1 : 0;
  return 1 + clamp(lw - ll, dmin, clip);
}

/** Loss as a function of (lw, ll) with every sg(·) frozen at `base`. */
function refLoss(name: LossName, hyper: LossHyper, base: Pair): (lw: number, ll: number) => number {
  const { beta: b, clip, labelSmoothing: eps } = hyper;
  const { refW, refL } = base;
  const symm = name.endsWith('-symm');
  const lam = lambdaRef(base.lw, base.ll, clip, symm);
  const sgRw = base.lw - refW;
  const lamW = base.ll / (base.lw + base.ll);
  return (lw, ll) => {
    const rw = lw - refW;
    const rl = ll - refL;
    const h = rw - rl;
    switch (name) {
      case 'dpo':
        return nls(b * h);
      case 'nbdpo-asymm':
      case 'nbdpo-symm':
        return nls(b * lam * rw - b * rl - b * (lam - 1) * sgRw);
      case 'nbdpo2-asymm':
      case 'nbdpo2-symm':
        return nls(b * lam * rw - b * rl);
      case 'bdpo':
        return nls(b * lamW * rw - b * (1 - lamW) * rl);
      case 'ipo':
        return (h - 1 / (2 * b)) ** 2;
      case 'cdpo':
        return -(1 - eps) * Math.log(1 / (1 + Math.exp(-b * h))) - eps * Math.log(1 / (1 + Math.exp(b * h)));
      case 'hinge':
        return Math.max(0, 1 - b * h);
    }
  };
}

function refValueAndGrads(name: LossName, hyper: LossHyper, p: Pair) {
  const f = refLoss(name, hyper, p);
  const e = 1e-6;
  return {
    loss: f(p.lw, p.ll),
    gw: (f(p.lw + e, p.ll) - f(p.lw - e, p.ll)) / (2 * e),
    gl: (f(p.lw, p.ll + e) - f(p.lw, p.ll - e)) / (2 * e),
  };
}

// ---------------------------------------------------------------------------------------------------------
const H: LossHyper = { beta: 1, clip: 0.5, labelSmoothing: 0 };
const WORKED: Pair = { lw: -2.0, ll: -3.0, refW: -2.5, refL: -2.8 };

function toInputs(pairs: Pair[]): LossInputs {
  return {
    lw: tf.tensor1d(pairs.map((p) => p.lw)),
    ll: tf.tensor1d(pairs.map((p) => p.ll)),
    refW: tf.tensor1d(pairs.map((p) => p.refW)),
    refL: tf.tensor1d(pairs.map((p) => p.refL)),
  };
}

function run(name: LossName, pairs: Pair[], hyper: LossHyper = H) {
  return tf.tidy(() => {
    const r = lossAndLogpGrads(LOSSES[name], toInputs(pairs), hyper);
    return { loss: Array.from(r.perPair.dataSync()), gw: Array.from(r.gw.dataSync()), gl: Array.from(r.gl.dataSync()) };
  });
}

function expectClose(actual: number, expected: number, tol: number, what = '') {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: expected ${expected}, got ${actual} (|diff| ${Math.abs(actual - expected)} > ${tol})`);
  }
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pairs spanning every regime of λ: below, inside and above both clip ranges, with lw > ll and lw < ll. */
function samplePairs(seed: number): Pair[] {
  const r = rng(seed);
  const gaps = [-2.5, -0.4, -0.25, -0.1, 0.05, 0.2, 0.45, 0.8, 3];
  return gaps.map((gap) => {
    const lw = -0.6 - 3 * r();
    return { lw, ll: lw - gap, refW: lw + (r() - 0.5) * 1.5, refL: lw - gap + (r() - 0.5) * 1.5 };
  });
}

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  // The trainer calls these every step: a leaked tensor per call would grow without bound.
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

// ---------------------------------------------------------------------------------------------------------
describe('stopGradient and negLogSigmoid', () => {
  it('stopGradient passes the value and blocks the gradient', () => {
    const [g] = tf.tidy(() => {
      const x = tf.tensor1d([1.5, -2]);
      const grads = tf.grads((a: tf.Tensor) => tf.add(tf.mul(a, 3), tf.mul(stopGradient(a), a)))([x]);
      // d/da [3a + sg(a)·a] = 3 + a0 (the sg factor is a constant)
      return [Array.from(grads[0].dataSync())];
    });
    expect(g[0]).toBeCloseTo(4.5, 5);
    expect(g[1]).toBeCloseTo(1, 5);
    const v = tf.tidy(() => Array.from(stopGradient(tf.tensor1d([7, -3])).dataSync()));
    expect(v).toEqual([7, -3]);
  });

  it('negLogSigmoid is finite far into both tails', () => {
    const v = tf.tidy(() => Array.from(negLogSigmoid(tf.tensor1d([-200, 0, 200])).dataSync()));
    expectClose(v[0], 200, 1e-3, '−log σ(−200)');
    expectClose(v[1], Math.LN2, 1e-6, '−log σ(0)');
    expectClose(v[2], 0, 1e-30, '−log σ(200)');
  });
});

describe('registry', () => {
  it('has one definition per name, in LOSS_NAMES order, each carrying its own name', () => {
    expect(listLosses().map((d) => d.name)).toEqual([...LOSS_NAMES]);
    for (const n of LOSS_NAMES) expect(LOSSES[n].name).toBe(n);
    expect(getLoss('bdpo')).toBe(LOSSES.bdpo);
  });

  it('rejects an unknown name with the list of valid ones', () => {
    expect(() => getLoss('dpo2')).toThrow(/unknown loss "dpo2".*dpo, nbdpo-asymm, nbdpo-symm.*cdpo, hinge/);
  });
});

describe('worked pair (β = 1, clip = 0.5): lw = −2, ll = −3, ref_w = −2.5, ref_l = −2.8', () => {
  // Derivation for the pair: rw = 0.5, rl = −0.2, h = 0.7, lw − ll = 1 → λ = 1.5 (clipped, both variants),
  // λw = −3 / −5 = 0.6. σ(−0.7) = 0.3318122, σ(−0.95) = 0.2788848, σ(−0.38) = 0.4061269.
  const expected: Record<LossName, [number, number, number]> = {
    // from losses.md
    dpo: [0.403186, -0.331812, 0.331812],
    'nbdpo-asymm': [0.403186, -0.497718, 0.331812],
    // same as asymm: lw − ll = 1 is above Δmax for both clips
    'nbdpo-symm': [0.403186, -0.497718, 0.331812],
    // z = 1.5·0.5 + 0.2 = 0.95: loss softplus(−0.95), gw = −1.5·σ(−0.95), gl = σ(−0.95)
    'nbdpo2-asymm': [0.3269564, -0.4183272, 0.2788848],
    'nbdpo2-symm': [0.3269564, -0.4183272, 0.2788848],
    // z = 0.6·0.5 + 0.4·0.2 = 0.38: gw = −0.6·σ(−0.38), gl = 0.4·σ(−0.38)
    bdpo: [0.5210896, -0.2436761, 0.1624508],
    // (0.7 − 0.5)² = 0.04, ∂/∂lw = 2·0.2
    ipo: [0.04, 0.4, -0.4],
    // ε = 0 (worked hyper): identical to DPO
    cdpo: [0.403186, -0.331812, 0.331812],
    // 1 − 0.7, slope −β inside the margin
    hinge: [0.3, -1, 1],
  };
  for (const name of LOSS_NAMES) {
    it(name, () => {
      const r = run(name, [WORKED]);
      const [loss, gw, gl] = expected[name];
      expectClose(r.loss[0], loss, 1e-5, `${name} loss`);
      expectClose(r.gw[0], gw, 1e-5, `${name} ∂L/∂lw`);
      expectClose(r.gl[0], gl, 1e-5, `${name} ∂L/∂ll`);
    });
  }

  it('cdpo with ε = 0.1: 0.9·softplus(−0.7) + 0.1·softplus(0.7), gradient ε − σ(−0.7)', () => {
    const r = run('cdpo', [WORKED], { ...H, labelSmoothing: 0.1 });
    expectClose(r.loss[0], 0.473186, 1e-5, 'loss');
    expectClose(r.gw[0], -0.2318122, 1e-5, 'gw');
    expectClose(r.gl[0], 0.2318122, 1e-5, 'gl');
  });
});

describe('gradients match central differences with the stop-gradient terms frozen', () => {
  const hypers: LossHyper[] = [
    { beta: 1, clip: 0.5, labelSmoothing: 0 },
    { beta: 0.3, clip: 0.2, labelSmoothing: 0.1 },
    { beta: 2.5, clip: 1, labelSmoothing: 0.25 },
  ];
  for (const name of LOSS_NAMES) {
    it(name, () => {
      hypers.forEach((hyper, hi) => {
        // hinge has a kink at βh = 1 where a finite difference is meaningless
        const pairs = samplePairs(17 + hi).filter((p) => {
          const h = p.lw - p.refW - (p.ll - p.refL);
          return name !== 'hinge' || Math.abs(1 - hyper.beta * h) > 1e-3;
        });
        const got = run(name, pairs, hyper);
        pairs.forEach((p, i) => {
          const want = refValueAndGrads(name, hyper, p);
          const tag = `${name} hyper#${hi} pair#${i}`;
          expectClose(got.loss[i], want.loss, 2e-5 * (1 + Math.abs(want.loss)), `${tag} loss`);
          expectClose(got.gw[i], want.gw, 5e-5 * (1 + Math.abs(want.gw)), `${tag} gw`);
          expectClose(got.gl[i], want.gl, 5e-5 * (1 + Math.abs(want.gl)), `${tag} gl`);
        });
      });
    });
  }

  it('detaching matters: nbdpo2 and bdpo would have different gradients with λ, λw live', () => {
    // If the code forgot sg(·) on λ (nbdpo2, inside the clip range) or on λw (bdpo), autodiff would pick up
    // the extra terms these live-weight finite differences contain; the frozen reference must differ from them.
    const p: Pair = { lw: -1.2, ll: -1.4, refW: -1.5, refL: -1.6 }; // gap 0.2 inside the clip; rw + rl ≠ 0
    const e = 1e-6;
    const live = (f: (lw: number, ll: number) => number) => (f(p.lw + e, p.ll) - f(p.lw - e, p.ll)) / (2 * e);
    const nb2Live = live((lw, ll) => nls(lambdaRef(lw, ll, 0.5, false) * (lw - p.refW) - (ll - p.refL)));
    const bdpoLive = live((lw, ll) => {
      const w = ll / (lw + ll);
      return nls(w * (lw - p.refW) - (1 - w) * (ll - p.refL));
    });
    const nb2 = run('nbdpo2-asymm', [p]).gw[0];
    const b = run('bdpo', [p]).gw[0];
    expect(Math.abs(nb2 - nb2Live)).toBeGreaterThan(1e-2);
    expect(Math.abs(b - bdpoLive)).toBeGreaterThan(1e-2);
    expectClose(nb2, refValueAndGrads('nbdpo2-asymm', H, p).gw, 1e-5, 'nbdpo2 frozen');
    expectClose(b, refValueAndGrads('bdpo', H, p).gw, 1e-5, 'bdpo frozen');
  });
});

describe('nbDPO', () => {
  it('has exactly the value of DPO, with ∂L/∂lw = λ·DPO’s and ∂L/∂ll = DPO’s', () => {
    const pairs = samplePairs(3);
    const d = run('dpo', pairs);
    for (const symm of [false, true]) {
      const name: LossName = symm ? 'nbdpo-symm' : 'nbdpo-asymm';
      const nb = run(name, pairs);
      pairs.forEach((p, i) => {
        expectClose(nb.loss[i], d.loss[i], 1e-7, `${name} value pair ${i}`);
        const lam = lambdaRef(p.lw, p.ll, H.clip, symm);
        expectClose(nb.gw[i], lam * d.gw[i], 1e-6, `${name} gw pair ${i}`);
        expectClose(nb.gl[i], d.gl[i], 1e-7, `${name} gl pair ${i}`);
      });
    }
  });

  it('clips λ to [1, 1 + clip] (asymm) and [1/(1 + clip), 1 + clip] (symm)', () => {
    const gaps = [-10, -0.3, -0.1, 0, 0.2, 10];
    const pairs = gaps.map((g) => ({ lw: -2, ll: -2 - g, refW: -2.2, refL: -2.1 }));
    const cases: [LossName, number, number[]][] = [
      ['nbdpo-asymm', 0.5, [1, 1, 1, 1, 1.2, 1.5]],
      // gap −0.3 lies inside [−1/3, 0.5], so λ = 0.7
      ['nbdpo-symm', 0.5, [2 / 3, 0.7, 0.9, 1, 1.2, 1.5]],
      ['nbdpo-asymm', 0.2, [1, 1, 1, 1, 1.2, 1.2]],
      ['nbdpo-symm', 0.2, [1 / 1.2, 1 / 1.2, 0.9, 1, 1.2, 1.2]],
    ];
    for (const [name, clip, lambdas] of cases) {
      const hyper = { ...H, clip };
      const d = run('dpo', pairs, hyper);
      const nb = run(name, pairs, hyper);
      lambdas.forEach((lam, i) => expectClose(nb.gw[i] / d.gw[i], lam, 1e-5, `${name} clip ${clip} gap ${gaps[i]}`));
    }
  });
});

describe('balance diagnostics', () => {
  function balance(name: LossName, pairs: Pair[]) {
    return tf.tidy(() => {
      const inputs = toInputs(pairs);
      const r = lossAndLogpGrads(LOSSES[name], inputs, H);
      const b = balanceTerms(inputs.lw, inputs.ll, r.gw, r.gl);
      return {
        log10: Array.from(b.log10ProbRatio.dataSync()),
        ratio: Array.from(b.logpGradRatio.dataSync()),
        defined: Array.from(b.defined.dataSync()),
      };
    });
  }
  const LOG10E = 1 / Math.LN10;

  it('DPO: log-prob ratio 1; log10 ρ = (ll − lw)/ln 10, negative when πθ(y_w) > πθ(y_l)', () => {
    const b = balance('dpo', [WORKED, { lw: -3, ll: -1.5, refW: -2, refL: -2 }]);
    expectClose(b.ratio[0], 1, 1e-6, 'ratio');
    expectClose(b.log10[0], -LOG10E, 1e-5, 'log10 ρ, lw > ll'); // −0.434294
    expect(b.log10[0]).toBeLessThan(0);
    expectClose(b.log10[1], 1.5 * LOG10E, 1e-5, 'log10 ρ, lw < ll');
    expect(b.log10[1]).toBeGreaterThan(0);
  });

  it('nbDPO: log-prob ratio λ, and log10 ρ moves toward 0 by log10 λ', () => {
    const b = balance('nbdpo-asymm', [WORKED]);
    expectClose(b.ratio[0], 1.5, 1e-5, 'ratio');
    expectClose(b.log10[0], Math.log10(1.5) - LOG10E, 1e-5, 'log10 ρ'); // −0.258203
  });

  it('bDPO: log-prob ratio λw/(1 − λw) = ll/lw; ρ = (ll/lw)·e^(ll − lw)', () => {
    const pairs = samplePairs(5);
    const b = balance('bdpo', pairs);
    pairs.forEach((p, i) => {
      const lamW = p.ll / (p.lw + p.ll);
      expectClose(b.ratio[i], lamW / (1 - lamW), 1e-4 * (1 + lamW / (1 - lamW)), `ratio pair ${i}`);
      expectClose(b.log10[i], Math.log10(p.ll / p.lw) + (p.ll - p.lw) * LOG10E, 1e-5, `log10 ρ pair ${i}`);
    });
    // Worked pair: log10 1.5 − 0.434294 = −0.258203, less imbalanced than DPO's −0.434294 but not 0.
    expectClose(balance('bdpo', [WORKED]).log10[0], -0.2582032, 1e-5, 'worked pair');
  });

  it('bDPO is exactly balanced (log10 ρ = 0) where ll·e^ll = lw·e^lw, e.g. lw = −0.5', () => {
    // x·e^x is decreasing below −1, so bisection finds the unique ll < −1 with the same value as lw = −0.5.
    const lw = -0.5;
    const target = lw * Math.exp(lw);
    let lo = -10;
    let hi = -1;
    for (let k = 0; k < 200; k++) {
      const mid = (lo + hi) / 2;
      if (mid * Math.exp(mid) > target) lo = mid;
      else hi = mid;
    }
    const ll = (lo + hi) / 2; // ≈ −1.7564
    const b = balance('bdpo', [{ lw, ll, refW: -0.9, refL: -1.2 }]);
    expectClose(b.log10[0], 0, 2e-6, 'bdpo log10 ρ');
    // ...while DPO on the same pair is negatively imbalanced
    expect(balance('dpo', [{ lw, ll, refW: -0.9, refL: -1.2 }]).log10[0]).toBeLessThan(-0.5);
  });

  it('pairs with a zero gradient are masked (log10 ρ 0, ratio 1) and left out of batch means', () => {
    // hinge: pair 0 inside the margin (βh = 0.7), pair 1 past it (βh = 2.2 → zero gradient)
    const inside = WORKED;
    const past: Pair = { lw: -1, ll: -3, refW: -1.2, refL: -1.0 };
    const b = balance('hinge', [inside, past]);
    expect(b.defined).toEqual([1, 0]);
    expectClose(b.log10[0], -LOG10E, 1e-5, 'inside');
    expect(b.log10[1]).toBe(0);
    expect(b.ratio[1]).toBe(1);

    const m = tf.tidy(() => {
      const inputs = toInputs([inside, past]);
      const r = lossAndLogpGrads(LOSSES.hinge, inputs, H);
      const metrics = standardMetrics({ ...inputs, perPair: r.perPair, beta: 1, gw: r.gw, gl: r.gl });
      return {
        log10: metrics['balance/log10_prob_ratio'].dataSync()[0],
        ratio: metrics['balance/logp_grad_ratio'].dataSync()[0],
      };
    });
    expectClose(m.log10, -LOG10E, 1e-5, 'batch mean over the defined pair only');
    expectClose(m.ratio, 1, 1e-6, 'batch ratio');

    const none = tf.tidy(() => {
      const inputs = toInputs([past, past]);
      const r = lossAndLogpGrads(LOSSES.hinge, inputs, H);
      const metrics = standardMetrics({ ...inputs, perPair: r.perPair, beta: 1, gw: r.gw, gl: r.gl });
      return [metrics['balance/log10_prob_ratio'].dataSync()[0], metrics['balance/logp_grad_ratio'].dataSync()[0]];
    });
    expect(none).toEqual([0, 1]);
  });
});

describe('standardMetrics', () => {
  it('matches hand-computed batch means (β = 2), counting a tie as inaccurate', () => {
    const pairs: Pair[] = [
      WORKED, // rw 0.5, rl −0.2
      { lw: -1, ll: -0.5, refW: -0.8, refL: -1.0 }, // rw −0.2, rl 0.5
      { lw: -4, ll: -6, refW: -4.5, refL: -6.1 }, // rw 0.5, rl 0.1
      { lw: -1, ll: -2, refW: -1.5, refL: -2.5 }, // rw = rl = 0.5 exactly: a tie (TRL counts chosen > rejected)
    ];
    const beta = 2;
    const m = tf.tidy(() => {
      const inputs = toInputs(pairs);
      const r = lossAndLogpGrads(LOSSES.dpo, inputs, { ...H, beta });
      const rec = standardMetrics({ ...inputs, perPair: r.perPair, beta, gw: r.gw, gl: r.gl });
      const stacked = stackStandardMetrics(rec);
      expect(stacked.shape).toEqual([STANDARD_METRIC_NAMES.length]);
      return Array.from(stacked.dataSync());
    });
    const get = (n: (typeof STANDARD_METRIC_NAMES)[number]) => m[STANDARD_METRIC_NAMES.indexOf(n)];
    const losses = [0.7, -0.7, 0.4, 0].map((h) => nls(beta * h));
    expectClose(get('loss'), losses.reduce((x, y) => x + y) / 4, 1e-5, 'loss');
    expectClose(get('rewards/chosen'), (2 * (0.5 - 0.2 + 0.5 + 0.5)) / 4, 1e-5, 'chosen');
    expectClose(get('rewards/rejected'), (2 * (-0.2 + 0.5 + 0.1 + 0.5)) / 4, 1e-5, 'rejected');
    expectClose(get('rewards/margins'), (2 * (0.7 - 0.7 + 0.4 + 0)) / 4, 1e-5, 'margins');
    expectClose(get('rewards/accuracies'), 2 / 4, 1e-6, 'accuracies');
    expectClose(get('logps/chosen'), -8 / 4, 1e-5, 'logps/chosen');
    expectClose(get('logps/rejected'), -11.5 / 4, 1e-5, 'logps/rejected');
    // DPO: ratio 1 everywhere; log10 ρ = (ll − lw)/ln 10 per pair → mean of (−1, 0.5, −2, −1)/ln 10
    expectClose(get('balance/log10_prob_ratio'), -3.5 / 4 / Math.LN10, 1e-5, 'log10 ρ');
    expectClose(get('balance/logp_grad_ratio'), 1, 1e-6, 'logp ratio');
  });
});

describe('batched [R, B] inputs', () => {
  it('give, for every loss, the same per-pair numbers and per-run metrics as one run at a time', () => {
    const R = 3;
    const runs = [samplePairs(101), samplePairs(202), samplePairs(303)].map((ps) => ps.slice(0, 5));
    const hyper: LossHyper = { beta: 0.7, clip: 0.4, labelSmoothing: 0.1 };
    const stack = (f: (p: Pair) => number) => tf.tensor2d(runs.map((ps) => ps.map(f)));
    for (const name of LOSS_NAMES) {
      const batched = tf.tidy(() => {
        const inputs: LossInputs = {
          lw: stack((p) => p.lw),
          ll: stack((p) => p.ll),
          refW: stack((p) => p.refW),
          refL: stack((p) => p.refL),
        };
        const r = lossAndLogpGrads(LOSSES[name], inputs, hyper);
        expect(r.perPair.shape).toEqual([R, 5]);
        expect(r.gw.shape).toEqual([R, 5]);
        const metrics = standardMetrics({ ...inputs, perPair: r.perPair, beta: hyper.beta, gw: r.gw, gl: r.gl });
        const stacked = stackStandardMetrics(metrics);
        expect(stacked.shape).toEqual([STANDARD_METRIC_NAMES.length, R]);
        return {
          loss: r.perPair.arraySync() as number[][],
          gw: r.gw.arraySync() as number[][],
          gl: r.gl.arraySync() as number[][],
          metrics: stacked.arraySync() as number[][],
        };
      });
      runs.forEach((ps, ri) => {
        const single = run(name, ps, hyper);
        const singleMetrics = tf.tidy(() => {
          const inputs = toInputs(ps);
          const r = lossAndLogpGrads(LOSSES[name], inputs, hyper);
          const rec = standardMetrics({ ...inputs, perPair: r.perPair, beta: hyper.beta, gw: r.gw, gl: r.gl });
          return Array.from(stackStandardMetrics(rec).dataSync());
        });
        ps.forEach((_, j) => {
          expectClose(batched.loss[ri][j], single.loss[j], 1e-6, `${name} run ${ri} pair ${j} loss`);
          expectClose(batched.gw[ri][j], single.gw[j], 1e-6, `${name} run ${ri} pair ${j} gw`);
          expectClose(batched.gl[ri][j], single.gl[j], 1e-6, `${name} run ${ri} pair ${j} gl`);
        });
        STANDARD_METRIC_NAMES.forEach((n, k) => expectClose(batched.metrics[k][ri], singleMetrics[k], 1e-5, `${name} run ${ri} ${n}`));
      });
    }
  });
});

describe('non-finite guard', () => {
  it('bdpo with lw + ll = 0 is caught by assertFiniteMetrics, naming the loss, the step and the cause', () => {
    const values = tf.tidy(() => {
      const inputs = toInputs([WORKED, { lw: -1, ll: 1, refW: -1, refL: 1 }]);
      const r = lossAndLogpGrads(LOSSES.bdpo, inputs, H);
      const rec = standardMetrics({ ...inputs, perPair: r.perPair, beta: 1, gw: r.gw, gl: r.gl });
      return Object.fromEntries(STANDARD_METRIC_NAMES.map((n) => [n, rec[n].dataSync()[0]]));
    });
    expect(Number.isFinite(values.loss)).toBe(false);
    let err: unknown;
    try {
      assertFiniteMetrics(values, { loss: 'bdpo', step: 7 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteMetricError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/bdpo/);
    expect(msg).toMatch(/step 7/);
    expect(msg).toMatch(/loss=NaN/);
    expect(msg).toMatch(/lw \+ ll/);
  });

  it('reports the run index of per-run arrays and passes finite values', () => {
    expect(() => assertFiniteMetrics({ loss: [0.1, 0.2], 'rewards/chosen': 3 }, { loss: 'dpo', step: 1 })).not.toThrow();
    expect(() => assertFiniteMetrics({ loss: new Float32Array([0.1, Infinity]) }, { loss: 'dpo', step: 12 })).toThrow(
      /loss dpo .*step 12: loss\[run 1\]=Infinity/,
    );
  });
});
