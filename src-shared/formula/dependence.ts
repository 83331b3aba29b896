import type { Expr, Program } from './ast';
import { FormulaSyntaxError } from './errors';

/** Which policy log-probs an expression depends on: through any path (value) and through non-sg paths (gradient). */
interface Deps {
  value: boolean;
  gradient: boolean;
}

function depsOf(e: Expr, named: Map<string, Deps>): Deps {
  switch (e.kind) {
    case 'num':
      return { value: false, gradient: false };
    case 'var': {
      const policy = e.name === 'logp_w' || e.name === 'logp_l';
      return { value: policy, gradient: policy };
    }
    case 'ref':
      return named.get(e.name) as Deps;
    case 'neg':
      return depsOf(e.arg, named);
    case 'bin': {
      const a = depsOf(e.left, named);
      const b = depsOf(e.right, named);
      return { value: a.value || b.value, gradient: a.gradient || b.gradient };
    }
    case 'call': {
      const all = e.args.map((x) => depsOf(x, named));
      const value = all.some((d) => d.value);
      return { value, gradient: e.fn !== 'sg' && all.some((d) => d.gradient) };
    }
  }
}

/**
 * A loss whose value cannot change with logp_w or logp_l gives the policy no gradient, so training it would
 * silently do nothing. Throws at the loss expression when it depends on neither (structurally: the check
 * does not simplify, so logp_w − logp_w passes), naming sg when that is what cut the dependence.
 */
export function assertDependsOnPolicy(p: Program): void {
  const named = new Map<string, Deps>();
  for (const b of p.bindings) named.set(b.name, depsOf(b.expr, named));
  const d = depsOf(p.result, named);
  if (d.gradient) return;
  const message = d.value
    ? 'the loss uses logp_w and logp_l only inside sg(…), so its gradient with respect to them is zero and training would not move the policy'
    : 'the loss does not depend on logp_w or logp_l, so training would not move the policy';
  throw new FormulaSyntaxError(message, p.result.index, p.result.length);
}
