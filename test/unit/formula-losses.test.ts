/**
 * Issue 11 item 1: the nine built-in losses typed in as formulas (BUILTIN_FORMULAS), compiled to tfjs ops by
 * formulaPerPair, give the built-ins' per-pair values and gradients w.r.t. logp_w and logp_l (tfjs autodiff,
 * stop-gradients included), on ordinary and extreme pairs, in one-run [B] and batched [R, B] shapes; and the
 * balance diagnostics the trainers log come out the same.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CDPO_LABEL_SMOOTHING, BUILTIN_FORMULAS, evaluateFormula, parseFormulaOrThrow } from '@shared/formula';
import { LOSS_NAMES } from '@shared/losses';
import { LOSSES, lossOfConfig } from '../../src-main/engine/losses/registry';
import { customLossDefinition } from '../../src-main/engine/losses/formula';
import { lossAndLogpGrads, standardMetrics, stackStandardMetrics } from '../../src-main/engine/losses/diagnostics';
import type { LossHyper, LossInputs } from '../../src-main/engine/losses/types';
import { inspectLosses } from '../../src-main/engine/losses/inspect';

// [logp_w, logp_l, ref_w, ref_l]: typical sequence log-probs, the synthetic lab's range, saturated margins (±40
// through β), tiny and huge magnitudes, both sides of every nbDPO clip edge, and ties.
const PAIRS: [number, number, number, number][] = [
  [-2, -3, -2.5, -2.8],
  [-0.3, -0.2, -0.25, -0.25],
  [-1.1, -2.9, -1.3, -1.2],
  [-5, -1, -3, -3],
  [-40, -0.01, -20, -20],
  [-0.01, -40, -20, -20],
  [-200, -180, -190, -175],
  [-1e-3, -2e-3, -1.5e-3, -1.5e-3],
  [-1.25, -1, -1.1, -1.2],
  [-1, -1.25, -1.1, -1.2],
  [-1, -1.6, -1.1, -1.2],
  [-3, -3, -3, -3],
  [-12.5, -11.75, -10, -14],
  [-350, -420, -380, -380],
];
const cols = (i: number) => PAIRS.map((p) => p[i]);

function inputs(shape: number[]): LossInputs {
  return { lw: tf.tensor(cols(0), shape), ll: tf.tensor(cols(1), shape), refW: tf.tensor(cols(2), shape), refL: tf.tensor(cols(3), shape) };
}

/** |a − b| ≤ abs + rel·|b|, elementwise, with the offending entry named */
function expectClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, abs = 1e-6, rel = 1e-6) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= abs + rel * Math.abs(b[i])))
      expect.fail(`${what}[${i}] (pair ${JSON.stringify(PAIRS[i % PAIRS.length])}): formula ${a[i]} vs built-in ${b[i]}`);
  }
}

const HYPERS: LossHyper[] = [
  { beta: 1, clip: 0.5, labelSmoothing: BUILTIN_CDPO_LABEL_SMOOTHING },
  { beta: 0.1, clip: 0.3, labelSmoothing: BUILTIN_CDPO_LABEL_SMOOTHING },
  { beta: 4, clip: 2, labelSmoothing: BUILTIN_CDPO_LABEL_SMOOTHING },
];

describe('built-in losses typed in as formulas, compiled to tfjs', () => {
  for (const name of LOSS_NAMES) {
    it(`${name}: values and ∂L/∂logp_w, ∂L/∂logp_l match the built-in (β 0.1, 1, 4; extreme pairs; [B] and [R, B])`, () => {
      const custom = customLossDefinition({ name: `typed ${name}`, formula: BUILTIN_FORMULAS[name] });
      for (const hyper of HYPERS) {
        for (const shape of [[PAIRS.length], [2, PAIRS.length / 2]]) {
          tf.tidy(() => {
            const x = inputs(shape);
            const mine = lossAndLogpGrads(custom, x, hyper);
            const ref = lossAndLogpGrads(LOSSES[name], x, hyper);
            expect(mine.perPair.shape).toEqual(shape);
            const tag = `${name} β${hyper.beta} [${shape}]`;
            expectClose(`${tag} loss`, mine.perPair.dataSync(), ref.perPair.dataSync());
            expectClose(`${tag} grad_w`, mine.gw.dataSync(), ref.gw.dataSync());
            expectClose(`${tag} grad_l`, mine.gl.dataSync(), ref.gl.dataSync());
          });
        }
      }
    });
  }

  it('a test that can fail: a formula that differs from a built-in by a little is told apart', () => {
    const off = customLossDefinition({ name: 'off', formula: '-logsigmoid(1.001 * beta * ((logp_w - ref_w) - (logp_l - ref_l)))' });
    tf.tidy(() => {
      const x = inputs([PAIRS.length]);
      const a = lossAndLogpGrads(off, x, HYPERS[0]).gw.dataSync();
      const b = lossAndLogpGrads(LOSSES.dpo, x, HYPERS[0]).gw.dataSync();
      expect(() => expectClose('gw', a, b)).toThrow(/formula .* vs built-in/);
    });
  });

  it('the float32 tfjs gradients agree with the float64 dual-number evaluator (the Losses view uses it)', () => {
    const f = parseFormulaOrThrow(
      'lam = sg(logp_l / (logp_w + logp_l))\n-logsigmoid(beta * lam * (logp_w - ref_w) - beta * (1 - lam) * (logp_l - ref_l)) + 0.1 * abs(logp_w - ref_w)',
    );
    const def = customLossDefinition({ name: 'bdpo+l1', formula: f.source });
    tf.tidy(() => {
      const r = lossAndLogpGrads(def, inputs([PAIRS.length]), HYPERS[0]);
      const [loss, gw, gl] = [r.perPair.dataSync(), r.gw.dataSync(), r.gl.dataSync()];
      PAIRS.slice(0, 4).forEach(([logp_w, logp_l, ref_w, ref_l], i) => {
        const d = evaluateFormula(f, { logp_w, logp_l, ref_w, ref_l, beta: 1, clip: 0.5 });
        expect(loss[i]).toBeCloseTo(d.loss, 5);
        expect(gw[i]).toBeCloseTo(d.grad_w, 5);
        expect(gl[i]).toBeCloseTo(d.grad_l, 5);
      });
    });
  });

  it("gives the trainers' balance diagnostics (from gradients) as the built-in does", () => {
    for (const name of ['dpo', 'nbdpo-symm', 'bdpo'] as const) {
      const custom = lossOfConfig({ loss: 'custom', customLoss: { name: `typed ${name}`, formula: BUILTIN_FORMULAS[name] } });
      tf.tidy(() => {
        const x = inputs([2, PAIRS.length / 2]);
        const metrics = (def: typeof custom) => {
          const g = lossAndLogpGrads(def, x, HYPERS[0]);
          return stackStandardMetrics(standardMetrics({ ...x, perPair: g.perPair, gw: g.gw, gl: g.gl, beta: 1 })).dataSync();
        };
        // |gw|/|gl| divides by bdpo's (1 − λw) at a pair with λw ≈ 0.99975: float32 cancellation differs by
        // formulation there (≈ 4e-4 relative on a gradient of ≈ 1e-4), so ratios are compared to 1e-3
        expectClose(`${name} metrics`, metrics(custom), metrics(LOSSES[name]), 1e-5, 1e-3);
      });
    }
  });

  it('lossOfConfig: built-ins by name, custom by formula; a bad formula throws at its character', () => {
    expect(lossOfConfig({ loss: 'ipo' })).toBe(LOSSES.ipo);
    const c = lossOfConfig({ loss: 'custom', customLoss: { name: 'mine', formula: BUILTIN_FORMULAS.hinge } });
    expect([c.name, c.label, c.formula]).toEqual(['custom', 'mine', BUILTIN_FORMULAS.hinge]);
    expect(() => lossOfConfig({ loss: 'custom', customLoss: { name: 'bad', formula: 'logp_w +' } })).toThrow(/invalid loss formula: .*\(at character 9\)/);
    expect(() => lossOfConfig({ loss: 'custom' })).toThrow(/needs customLoss/);
  });

  it('inspectLosses: a formula is reported as "custom", alone or beside named losses', () => {
    const input = { logp_w: cols(0).slice(0, 3), logp_l: cols(1).slice(0, 3), ref_w: cols(2).slice(0, 3), ref_l: cols(3).slice(0, 3), beta: 0.5 };
    const alone = inspectLosses({ ...input, formula: BUILTIN_FORMULAS.dpo });
    expect(Object.keys(alone)).toEqual(['custom']);
    const both = inspectLosses({ ...input, losses: ['dpo'], formula: BUILTIN_FORMULAS.dpo });
    expect(Object.keys(both)).toEqual(['dpo', 'custom']);
    expectClose('inspect loss', both.custom.loss, both.dpo.loss);
    expectClose('inspect grad_w', both.custom.grad_w, both.dpo.grad_w);
    expect(() => inspectLosses({ ...input, formula: 'log(logp_w - ref_w + 1e9) - 1e9 * sg(logp_l) + zz' })).toThrow(/formula: unknown name zz/);
  });
});
