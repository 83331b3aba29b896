import { describe, expect, it } from 'vitest';
import { BUILTIN_FORMULAS, evaluateFormula, parseFormula } from '@shared/formula';

function errorOf(source: string) {
  const r = parseFormula(source);
  if (r.ok) throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
  return r.error;
}

describe('formula parser errors point at the character', () => {
  it.each([
    ['beta * logpw', 7, 5, /unknown name logpw; did you mean logp_w/],
    ['logp_w + log(1, 2)', 9, 9, /log takes 1 argument/],
    ['logp_w +* 2', 8, 1, /unexpected "\*"/],
    ['2 logp_w', 2, 6, /write \* for a product/],
    ['beta * 2 + ref_w', 0, 16, /does not depend on logp_w or logp_l/],
    ['x = 1\nsg(logp_w) + x', 6, 14, /only inside sg/],
    ['logp_w $ 2', 7, 1, /unexpected character "\$"/],
    ['logp_w +', 8, 0, /the formula ends too soon: expected a number/],
    ['b = a\na = 1\nlogp_w', 4, 1, /used before its definition/],
  ])('%j', (source, index, length, message) => {
    const e = errorOf(source);
    expect(e.message).toMatch(message);
    expect([e.index, e.length]).toEqual([index, length]);
  });
});

describe('dual-number evaluator', () => {
  const pair = { logp_w: -2, logp_l: -3, ref_w: -2.5, ref_l: -2.8, beta: 1, clip: 0.5 };
  it('reproduces the worked values of losses.md for dpo and nbdpo-asymm', () => {
    for (const [name, gw] of [
      ['dpo', -0.331812],
      ['nbdpo-asymm', -0.497718],
    ] as const) {
      const r = parseFormula(BUILTIN_FORMULAS[name]);
      if (!r.ok) throw new Error(r.error.message);
      const v = evaluateFormula(r.formula, pair);
      expect(v.loss).toBeCloseTo(0.403186, 6);
      expect(v.grad_w).toBeCloseTo(gw, 6);
      expect(v.grad_l).toBeCloseTo(0.331812, 6);
    }
  });
});
