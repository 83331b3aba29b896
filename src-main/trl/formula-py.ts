import type { BinaryOp, Expr, FormulaFunction, FormulaVar, Program } from '@shared/formula';

/**
 * A parsed loss formula (src-shared/formula) as a plain PyTorch function for dpo_lab_losses.py, written from the
 * syntax tree node by node with the semantics of the lab's tfjs compiler (src-main/engine/losses/formula.ts):
 * sg(x) is x.detach(), min/max/clip send the gradient where tfjs does (ties to the first argument), parts that use
 * only numbers (beta, clip, constants) stay Python floats as the lab folds them in JS, and the result has the
 * inputs' shape. The helpers it calls (_lift, _minimum, _maximum, _num_div, _num_pow) are in the same file (losses-py.ts).
 */

/** Python names of the formula's inputs, the parameters of every loss function in dpo_lab_losses.py. */
const PY_VAR: Readonly<Record<FormulaVar, string>> = { logp_w: 'lw', logp_l: 'll', ref_w: 'ref_w', ref_l: 'ref_l', beta: 'beta', clip: 'clip' };
const TENSOR_VARS: ReadonlySet<FormulaVar> = new Set(['logp_w', 'logp_l', 'ref_w', 'ref_l']);

/** Elementwise functions: each lifts a number argument to a tensor first, as the lab's `lift` does. */
const PY_UNARY: Readonly<Record<Exclude<FormulaFunction, 'min' | 'max' | 'clip' | 'sg'>, string>> = {
  log: 'torch.log',
  exp: 'torch.exp',
  sigmoid: 'torch.sigmoid',
  logsigmoid: 'F.logsigmoid',
  softplus: 'F.softplus',
  abs: 'torch.abs',
};

/** Generated Python, and whether its value is a tensor (else a Python float), known from the tree alone. */
interface Py {
  code: string;
  tensor: boolean;
}

/** A float literal Python reads back as the same double (JavaScript's shortest round-trip digits). */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return 'math.nan';
  if (!Number.isFinite(v)) return v > 0 ? 'math.inf' : '-math.inf';
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Python identifier of a named sub-expression (prefixed, so no formula name can be a keyword or shadow ours). */
const bindingName = (name: string) => `f_${name}`;

const lifted = (p: Py) => (p.tensor ? p.code : `_lift(${p.code}, lw)`);

function binary(op: BinaryOp, a: Py, b: Py): Py {
  if (!a.tensor && !b.tensor) {
    // both numbers: folded in Python floats, with JavaScript's answers where Python would raise (x/0, (-8)^(1/3))
    if (op === '/') return { code: `_num_div(${a.code}, ${b.code})`, tensor: false };
    if (op === '^') return { code: `_num_pow(${a.code}, ${b.code})`, tensor: false };
    return { code: `(${a.code} ${op} ${b.code})`, tensor: false };
  }
  if (op === '^') {
    if (!b.tensor && b.code === '2.0') return { code: `torch.square(${lifted(a)})`, tensor: true };
    return { code: `torch.pow(${lifted(a)}, ${b.code})`, tensor: true };
  }
  return { code: `(${a.code} ${op} ${b.code})`, tensor: true };
}

function call(fn: FormulaFunction, args: Py[]): Py {
  const [x, y, z] = args;
  switch (fn) {
    case 'sg':
      return x.tensor ? { code: `${x.code}.detach()`, tensor: true } : x;
    case 'min':
      return { code: `_minimum(${x.code}, ${y.code}, lw)`, tensor: true };
    case 'max':
      return { code: `_maximum(${x.code}, ${y.code}, lw)`, tensor: true };
    case 'clip':
      return { code: `_minimum(_maximum(${x.code}, ${y.code}, lw), ${z.code}, lw)`, tensor: true };
    default:
      return { code: `${PY_UNARY[fn]}(${lifted(x)})`, tensor: true };
  }
}

function expr(e: Expr, bound: ReadonlyMap<string, boolean>): Py {
  switch (e.kind) {
    case 'num':
      return { code: pyFloat(e.value), tensor: false };
    case 'var':
      return { code: PY_VAR[e.name], tensor: TENSOR_VARS.has(e.name) };
    case 'ref': {
      const tensor = bound.get(e.name);
      if (tensor === undefined) throw new Error(`formula uses ${e.name} before it is defined`);
      return { code: bindingName(e.name), tensor };
    }
    case 'neg': {
      const a = expr(e.arg, bound);
      return { code: `(-${a.code})`, tensor: a.tensor };
    }
    case 'bin':
      return binary(e.op, expr(e.left, bound), expr(e.right, bound));
    case 'call':
      return call(
        e.fn,
        e.args.map((a) => expr(a, bound)),
      );
  }
}

/** The body lines (4-space indented) of a loss function computing `program` from lw, ll, ref_w, ref_l, beta, clip. */
export function programToPythonBody(program: Program): string[] {
  const bound = new Map<string, boolean>();
  const lines: string[] = [];
  for (const b of program.bindings) {
    const v = expr(b.expr, bound);
    lines.push(`    ${bindingName(b.name)} = ${v.code}`);
    bound.set(b.name, v.tensor);
  }
  const out = expr(program.result, bound);
  // the loss has the inputs' shape even where the formula reads only part of them, as formulaPerPair's result
  lines.push(out.tensor ? `    return ${out.code} + torch.zeros_like(lw)` : `    return torch.full_like(lw, ${out.code})`);
  return lines;
}

/** The formula's source as Python comment lines (control characters dropped, so nothing can end the comment). */
export function formulaComment(source: string, indent = '    '): string[] {
  const printable = (ch: string) => ch === '\t' || (ch >= ' ' && ch !== '\u007f');
  return source.split(/\r\n|\r|\n/).map((line) => `${indent}# ${[...line].filter(printable).join('')}`.trimEnd());
}
