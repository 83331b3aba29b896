/**
 * Parity with Hugging Face TRL's DPOTrainer: TRL's `loss_type` names resolve to the lab's losses with the same
 * formula (@shared/trl), and the lab's per-pair losses and ∂L/∂logp (tfjs autodiff, through inspectLosses) equal
 * numbers worked out by hand from TRL's documented formulas (dpo_loss in trl/trainer/dpo_trainer.py):
 *
 *   logits  = (πw − πl) − (rw_ref − rl_ref)          ≡ our h = rw − rl        (π = policy log-prob)
 *   sigmoid = −logσ(β·logits)(1−ε) − logσ(−β·logits)·ε
 *   ipo     = (logits − 1/(2β))²
 *   hinge   = relu(1 − β·logits)
 *
 * The spec (losses.md) defines dpo, cdpo, ipo and hinge with these same formulas: dpo is sigmoid at ε = 0, cdpo is
 * sigmoid with ε. One difference, not exercised here: TRL's ipo divides each sequence log-prob by its token count
 * before the formula; ipo here takes the log-probs as given (one-token responses in the synthetic lab, and
 * `loss --input` users pass length-averaged log-probs to match TRL).
 *
 * Gradients by hand, with z = β·h, ∂h/∂πw = 1, ∂h/∂πl = −1 (so grad_l = −grad_w for all four):
 *   d/dz[−logσ(z)] = −σ(−z) = σ(z) − 1,   d/dz[−logσ(−z)] = σ(z)
 *   sigmoid: ∂L/∂πw = β·(σ(z) − (1−ε))
 *   ipo:     ∂L/∂πw = 2·(h − 1/(2β))
 *   hinge:   ∂L/∂πw = −β where 1 − z > 0, else 0
 */
import { describe, expect, it } from 'vitest';
import { inspectLosses } from '../../src-main/engine/losses/inspect';
import { canonicalLossName, fromTrlLossType, isTrlLossType, TRL_LOSS_TYPES } from '@shared/trl';
import { isLossName } from '@shared/losses';

// β = 0.5, so 1/(2β) = 1 and z = h/2. Four pairs, chosen for round margins:
//   pair 0: πw −1.0, πl −2.0, ref −1.5, −1.0 → h = (−1 + 2) − (−1.5 + 1) =  1.5, z =  0.75
//   pair 1: πw −3.0, πl −2.0, ref −2.0, −2.5 → h = (−3 + 2) − (−2 + 2.5)  = −1.5, z = −0.75
//   pair 2: πw −2.0, πl −2.0, ref −2.0, −2.0 → h = 0,                          z =  0
//   pair 3: πw −0.5, πl −4.5, ref −1.0, −2.0 → h = (4) − (1)               =  3,   z =  1.5 (past the hinge)
const PAIRS = {
  logp_w: [-1.0, -3.0, -2.0, -0.5],
  logp_l: [-2.0, -2.0, -2.0, -4.5],
  ref_w: [-1.5, -2.0, -2.0, -1.0],
  ref_l: [-1.0, -2.5, -2.0, -2.0],
  beta: 0.5,
};

// The sigmoid values the hand arithmetic needs (−logσ(z) = ln(1 + e^(−z)), and −logσ(−z) = −logσ(z) + z):
//   z = 0.75: e^(−0.75) = 0.4723666 → σ = 1/1.4723666 = 0.6791787, −logσ(0.75) = ln 1.4723666 = 0.3868710,
//             −logσ(−0.75) = 0.3868710 + 0.75 = 1.1368710, σ(−0.75) = 1 − 0.6791787 = 0.3208213
//   z = 0:    σ = 0.5, −logσ(0) = ln 2 = 0.6931472
//   z = 1.5:  e^(−1.5) = 0.2231302 → σ = 1/1.2231302 = 0.8175745, −logσ(1.5) = ln 1.2231302 = 0.2014133
type Expected = { loss: number[]; grad_w: number[] };

/** TRL sigmoid, ε = 0. */
const SIGMOID: Expected = {
  // −logσ(z):        0.3868710, −logσ(−0.75) = 1.1368710, ln 2,      0.2014133
  loss: [0.386871, 1.136871, 0.6931472, 0.2014133],
  // β(σ(z) − 1): 0.5·(0.6791787 − 1), 0.5·(0.3208213 − 1), 0.5·(0.5 − 1), 0.5·(0.8175745 − 1)
  grad_w: [-0.1604107, -0.3395894, -0.25, -0.0912128],
};

/** TRL sigmoid, ε = 0.1: (1 − ε)·(−logσ(z)) + ε·(−logσ(−z)) = −logσ(z) + ε·z. */
const SIGMOID_EPS: Expected = {
  // 0.3868710 + 0.075, 1.1368710 − 0.075, ln 2 + 0, 0.2014133 + 0.15
  loss: [0.461871, 1.061871, 0.6931472, 0.3514133],
  // β(σ(z) − 0.9): 0.5·(0.6791787 − 0.9), 0.5·(0.3208213 − 0.9), 0.5·(0.5 − 0.9), 0.5·(0.8175745 − 0.9)
  grad_w: [-0.1104107, -0.2895894, -0.2, -0.0412128],
};

/** TRL ipo: (h − 1)² with 1/(2β) = 1. */
const IPO: Expected = {
  // (1.5 − 1)², (−1.5 − 1)², (0 − 1)², (3 − 1)²
  loss: [0.25, 6.25, 1, 4],
  // 2(h − 1)
  grad_w: [1, -5, -2, 4],
};

/** TRL hinge: relu(1 − z). */
const HINGE: Expected = {
  // 1 − 0.75, 1 + 0.75, 1 − 0, max(0, 1 − 1.5)
  loss: [0.25, 1.75, 1, 0],
  // −β inside the margin, 0 past it
  grad_w: [-0.5, -0.5, -0.5, 0],
};

function expectMatches(got: { loss: number[]; grad_w: number[]; grad_l: number[] }, want: Expected, what: string): void {
  want.loss.forEach((x, i) => expect(got.loss[i], `${what} loss[${i}]`).toBeCloseTo(x, 5));
  want.grad_w.forEach((x, i) => {
    expect(got.grad_w[i], `${what} grad_w[${i}]`).toBeCloseTo(x, 5);
    expect(got.grad_l[i], `${what} grad_l[${i}]`).toBeCloseTo(-x, 5);
  });
}

describe('TRL loss_type aliases', () => {
  it('map sigmoid to dpo (ε = 0) or cdpo (ε > 0), ipo and hinge to themselves, keeping ε', () => {
    expect(fromTrlLossType('sigmoid', 0)).toEqual({ loss: 'dpo', labelSmoothing: 0 });
    expect(fromTrlLossType('sigmoid')).toEqual({ loss: 'dpo', labelSmoothing: 0 });
    expect(fromTrlLossType('sigmoid', 0.1)).toEqual({ loss: 'cdpo', labelSmoothing: 0.1 });
    expect(fromTrlLossType('ipo', 0.2)).toEqual({ loss: 'ipo', labelSmoothing: 0.2 });
    expect(fromTrlLossType('hinge')).toEqual({ loss: 'hinge', labelSmoothing: 0 });
    for (const t of TRL_LOSS_TYPES) expect(isLossName(fromTrlLossType(t, 0.1).loss)).toBe(true);
  });

  it('claim no alias for TRL losses with another formula', () => {
    expect(() => fromTrlLossType('robust', 0.1)).toThrow(/robust.*not cdpo/);
    expect(() => fromTrlLossType('exo_pair')).toThrow(/TRL names accepted: sigmoid, ipo, hinge/);
    expect(isTrlLossType('dpo')).toBe(false);
    // the lab's own names pass through; unknown ones are left for the caller's validation to report
    expect(canonicalLossName('bdpo', 0.1)).toBe('bdpo');
    expect(canonicalLossName('cdpo', 0)).toBe('cdpo');
    expect(canonicalLossName('sigmoid', 0.05)).toBe('cdpo');
    expect(canonicalLossName('simpo')).toBe('simpo');
  });
});

describe("per-pair losses and gradients equal TRL's formulas, worked by hand (β = 0.5)", () => {
  it('sigmoid (ε = 0) = dpo', () => {
    const out = inspectLosses({ ...PAIRS, losses: ['sigmoid', 'dpo', 'cdpo'] });
    expectMatches(out.sigmoid, SIGMOID, 'sigmoid');
    expectMatches(out.dpo, SIGMOID, 'dpo');
    // cdpo at ε = 0 is plain DPO too
    expectMatches(out.cdpo, SIGMOID, 'cdpo ε=0');
  });

  it('sigmoid with label_smoothing 0.1 = cdpo with ε = 0.1 (dpo itself ignores ε)', () => {
    const out = inspectLosses({ ...PAIRS, label_smoothing: 0.1, losses: ['sigmoid', 'cdpo', 'dpo'] });
    expectMatches(out.sigmoid, SIGMOID_EPS, 'sigmoid ε=0.1');
    expectMatches(out.cdpo, SIGMOID_EPS, 'cdpo ε=0.1');
    expectMatches(out.dpo, SIGMOID, 'dpo ε=0.1');
  });

  it('ipo', () => {
    expectMatches(inspectLosses({ ...PAIRS, losses: ['ipo'] }).ipo, IPO, 'ipo');
  });

  it('hinge, with zero gradient past the margin', () => {
    expectMatches(inspectLosses({ ...PAIRS, losses: ['hinge'] }).hinge, HINGE, 'hinge');
  });

  it('ipo and hinge ignore label_smoothing, as in TRL', () => {
    const out = inspectLosses({ ...PAIRS, label_smoothing: 0.3, losses: ['ipo', 'hinge'] });
    expectMatches(out.ipo, IPO, 'ipo ε=0.3');
    expectMatches(out.hinge, HINGE, 'hinge ε=0.3');
  });
});
