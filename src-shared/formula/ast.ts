/** The syntax tree of a parsed formula. Every node carries the source span it came from, for messages. */

/** The per-pair quantities a formula may use (losses.md notation: lw, ll, ref_w, ref_l, β, Δmax). */
export const FORMULA_VARS = ['logp_w', 'logp_l', 'ref_w', 'ref_l', 'beta', 'clip'] as const;
export type FormulaVar = (typeof FORMULA_VARS)[number];

export function isFormulaVar(s: string): s is FormulaVar {
  return (FORMULA_VARS as readonly string[]).includes(s);
}

/** Functions and their argument counts. `sg` is stop-gradient: its value is its argument's, its derivative 0. */
export const FORMULA_FUNCTIONS = {
  log: 1,
  exp: 1,
  sigmoid: 1,
  logsigmoid: 1,
  softplus: 1,
  abs: 1,
  min: 2,
  max: 2,
  clip: 3,
  sg: 1,
} as const;
export type FormulaFunction = keyof typeof FORMULA_FUNCTIONS;

export function isFormulaFunction(s: string): s is FormulaFunction {
  return Object.prototype.hasOwnProperty.call(FORMULA_FUNCTIONS, s);
}

export type BinaryOp = '+' | '-' | '*' | '/' | '^';

interface Span {
  index: number;
  length: number;
}

export type Expr =
  | (Span & { kind: 'num'; value: number })
  | (Span & { kind: 'var'; name: FormulaVar })
  /** a named sub-expression defined earlier */
  | (Span & { kind: 'ref'; name: string })
  | (Span & { kind: 'neg'; arg: Expr })
  | (Span & { kind: 'bin'; op: BinaryOp; left: Expr; right: Expr })
  | (Span & { kind: 'call'; fn: FormulaFunction; args: Expr[] });

export interface Binding {
  name: string;
  expr: Expr;
}

/** Named sub-expressions in order (each may use the earlier ones), then the loss expression. */
export interface Program {
  bindings: Binding[];
  result: Expr;
}
