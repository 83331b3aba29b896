import type { Expr, FormulaVar, Program } from './ast';

/** A value with its derivatives with respect to logp_w (w) and logp_l (l): forward-mode automatic differentiation. */
interface Dual {
  v: number;
  w: number;
  l: number;
}

const constant = (v: number): Dual => ({ v, w: 0, l: 0 });
const scale = (d: Dual, v: number, k: number): Dual => ({ v, w: d.w * k, l: d.l * k });

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
/** log(1 + eˣ) without overflow for large x or loss of precision for very negative x. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function binary(op: string, a: Dual, b: Dual): Dual {
  switch (op) {
    case '+':
      return { v: a.v + b.v, w: a.w + b.w, l: a.l + b.l };
    case '-':
      return { v: a.v - b.v, w: a.w - b.w, l: a.l - b.l };
    case '*':
      return { v: a.v * b.v, w: a.w * b.v + a.v * b.w, l: a.l * b.v + a.v * b.l };
    case '/': {
      const v = a.v / b.v;
      return { v, w: (a.w - v * b.w) / b.v, l: (a.l - v * b.l) / b.v };
    }
    default: {
      // a^b: a constant exponent needs no log(a), so negative bases work (x^2 at x < 0)
      const v = Math.pow(a.v, b.v);
      const k = b.v === 0 ? 0 : b.v * Math.pow(a.v, b.v - 1);
      if (b.w === 0 && b.l === 0) return scale(a, v, k);
      const lnA = Math.log(a.v);
      return { v, w: k * a.w + v * lnA * b.w, l: k * a.l + v * lnA * b.l };
    }
  }
}

/** Gradient routing at ties follows tfjs (minimum: a when a ≤ b; maximum: a when a ≥ b), so both evaluators agree at kinks. */
function pick(useA: boolean, a: Dual, b: Dual, v: number): Dual {
  return useA ? { v, w: a.w, l: a.l } : { v, w: b.w, l: b.l };
}

function call(fn: string, args: Dual[]): Dual {
  const [x, y, z] = args;
  switch (fn) {
    case 'log':
      return scale(x, Math.log(x.v), 1 / x.v);
    case 'exp': {
      const v = Math.exp(x.v);
      return scale(x, v, v);
    }
    case 'sigmoid': {
      const s = sigmoid(x.v);
      return scale(x, s, s * (1 - s));
    }
    case 'logsigmoid':
      return scale(x, -softplus(-x.v), sigmoid(-x.v));
    case 'softplus':
      return scale(x, softplus(x.v), sigmoid(x.v));
    case 'abs':
      return scale(x, Math.abs(x.v), Math.sign(x.v));
    case 'min':
      return pick(x.v <= y.v, x, y, Math.min(x.v, y.v));
    case 'max':
      return pick(x.v >= y.v, x, y, Math.max(x.v, y.v));
    case 'clip': {
      // min(max(x, lo), hi), the form the tfjs compiler uses
      const m = pick(x.v >= y.v, x, y, Math.max(x.v, y.v));
      return pick(m.v <= z.v, m, z, Math.min(m.v, z.v));
    }
    default: // sg
      return constant(x.v);
  }
}

function evalExpr(e: Expr, point: Record<FormulaVar, number>, named: Map<string, Dual>): Dual {
  switch (e.kind) {
    case 'num':
      return constant(e.value);
    case 'var':
      return { v: point[e.name], w: e.name === 'logp_w' ? 1 : 0, l: e.name === 'logp_l' ? 1 : 0 };
    case 'ref':
      return named.get(e.name) as Dual;
    case 'neg': {
      const a = evalExpr(e.arg, point, named);
      return { v: -a.v, w: -a.w, l: -a.l };
    }
    case 'bin':
      return binary(e.op, evalExpr(e.left, point, named), evalExpr(e.right, point, named));
    case 'call':
      return call(
        e.fn,
        e.args.map((a) => evalExpr(a, point, named)),
      );
  }
}

/** The loss and its derivatives at one point, in float64. Non-finite results are returned as they are. */
export function evaluateProgram(p: Program, point: Record<FormulaVar, number>): { loss: number; grad_w: number; grad_l: number } {
  const named = new Map<string, Dual>();
  for (const b of p.bindings) named.set(b.name, evalExpr(b.expr, point, named));
  const r = evalExpr(p.result, point, named);
  return { loss: r.v, grad_w: r.w, grad_l: r.l };
}
