/**
 * expectedUtilityNormalized (synthetic.md § Metrics): R̃ = Σ_x Σ_y π(y|x)·u(y|x)/Z_x, Z_x = Σ_y u(y|x).
 * Held to a hand computation on K = 2 and K = 3, and the batched and reference trainers to the plain-JS value.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemorySink } from '../../src-main/engine/sink';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { EVAL_METRIC_NAMES, runSyntheticBatch } from '../../src-main/engine/synthetic/experiment';
import { trainReference } from '../../src-main/engine/synthetic/reference';
import { generateDataset, normalizedUtilityMatrix, policyStats } from '../../src-main/engine/synthetic/task';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expectedUtilityNormalized by hand', () => {
  it('K = 2, α = ln 2: u = [[1, ½], [½, 1]], Z = 1.5, so Ũ = [[⅔, ⅓], [⅓, ⅔]]', () => {
    const alpha = Math.log(2);
    const Un = normalizedUtilityMatrix(2, alpha);
    expect(Un[0][0]).toBeCloseTo(2 / 3, 14);
    expect(Un[0][1]).toBeCloseTo(1 / 3, 14);
    expect(Un[1][0]).toBeCloseTo(1 / 3, 14);
    // π(·|0) = (0.75, 0.25), π(·|1) = (0.1, 0.9):
    // R̃ = 0.75·⅔ + 0.25·⅓ + 0.1·⅓ + 0.9·⅔ = (1.5 + 0.25 + 0.1 + 1.8)/3 = 3.65/3
    // R  = 0.75·1 + 0.25·½ + 0.1·½ + 0.9·1 = 1.825
    const pi = [
      [0.75, 0.25],
      [0.1, 0.9],
    ];
    const st = policyStats(pi, pi, alpha, []);
    expect(st.expectedUtilityNormalized).toBeCloseTo(3.65 / 3, 14);
    expect(st.expectedUtility).toBeCloseTo(1.825, 14);
  });

  it('K = 3, α = ln 2: rows of u are [1, ½, 1/16], [½, 1, ½], [1/16, ½, 1]', () => {
    const alpha = Math.log(2); // u = 2^{−(y−x)²}: distance 1 → ½, distance 2 → 1/16
    const z0 = 1 + 0.5 + 1 / 16; // 25/16
    const z1 = 2;
    // one-hot on the best response: R̃ = 1/Z_0 + 1/Z_1 + 1/Z_2 = 16/25 + ½ + 16/25
    const best = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    expect(policyStats(best, best, alpha, []).expectedUtilityNormalized).toBeCloseTo(1 / z0 + 1 / z1 + 1 / z0, 14);
    expect(policyStats(best, best, alpha, []).expectedUtility).toBe(3);
    // uniform π: each row of Ũ sums to 1, so R̃ = Σ_x ⅓ = 1 whatever α is
    const uni = best.map((r) => r.map(() => 1 / 3));
    expect(policyStats(uni, uni, alpha, []).expectedUtilityNormalized).toBeCloseTo(1, 14);
    expect(policyStats(uni, uni, 0.6, []).expectedUtilityNormalized).toBeCloseTo(1, 14);
    // worst response of prompt 0 (y = 2): ũ = (1/16)/(25/16) = 1/25
    const worst0 = [
      [0, 0, 1],
      [0, 1, 0],
      [0, 0, 1],
    ];
    expect(policyStats(worst0, worst0, alpha, []).expectedUtilityNormalized).toBeCloseTo(1 / 25 + 1 / 2 + 16 / 25, 14);
  });
});

describe('expectedUtilityNormalized in the trainers', () => {
  const c = SyntheticConfigSchema.parse({ loss: 'bdpo', K: 6, mask: 0.2, seed: 3, steps: 8, refSteps: 4, batchSize: 16, hidden: 8, evalEvery: 4 });

  it('the batched trainer logs it at every eval point and in final, equal to plain JS on its probabilities', async () => {
    expect(EVAL_METRIC_NAMES).toContain('expectedUtilityNormalized');
    const sink = new MemorySink();
    const [res] = await runSyntheticBatch([{ config: c }], sink);
    const steps = sink.rows.filter((r) => r.name === 'expectedUtilityNormalized').map((r) => r.step);
    expect(steps).toEqual([0, 4, 8]);
    const js = policyStats(res.probs, res.refProbs, c.alpha, res.dataset.mask);
    const refJs = policyStats(res.refProbs, res.refProbs, c.alpha, res.dataset.mask);
    expect(res.final.expectedUtilityNormalized).toBeCloseTo(js.expectedUtilityNormalized, 5);
    expect(res.refFinal.expectedUtilityNormalized).toBeCloseTo(refJs.expectedUtilityNormalized, 5);
    // on the paper's scale: below the raw metric (every Z_x > 1) and above 0
    expect(res.final.expectedUtilityNormalized).toBeGreaterThan(0);
    expect(res.final.expectedUtilityNormalized).toBeLessThan(res.final.expectedUtility);
  });

  it('the reference trainer reports it in each eval, as plain JS does', () => {
    const ref = trainReference(c);
    const last = ref.evals[ref.evals.length - 1];
    const mask = generateDataset(c).mask;
    const js = policyStats(last.probs, ref.evals[0].probs, c.alpha, mask);
    expect(last.stats.expectedUtilityNormalized).toBeCloseTo(js.expectedUtilityNormalized, 12);
  });
});
