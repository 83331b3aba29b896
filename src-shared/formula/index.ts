/**
 * Losses written as formulas (issue 11): a small language over the per-pair quantities, parsed by our own
 * tokenizer and Pratt parser (never eval), checked for names, arity and dependence on the policy, and
 * evaluated with forward-mode dual numbers. The main process compiles the same Program to tfjs ops
 * (src-main/engine/losses/formula.ts).
 */
import type { Program, FormulaVar } from './ast';
import { assertDependsOnPolicy } from './dependence';
import { evaluateProgram } from './dual';
import { FormulaSyntaxError, type FormulaError } from './errors';
import { parseProgram } from './parser';

export { FORMULA_VARS, FORMULA_FUNCTIONS, type FormulaVar, type FormulaFunction, type Program, type Expr, type Binding, type BinaryOp } from './ast';
export { formatFormulaError, type FormulaError } from './errors';
export { BUILTIN_FORMULAS, BUILTIN_CDPO_LABEL_SMOOTHING } from './builtins';

export interface Formula {
  readonly source: string;
  /** The parsed program; the tfjs compiler walks it. */
  readonly program: Program;
}

export type ParseResult = { ok: true; formula: Formula } | { ok: false; error: FormulaError };

/** Longest formula accepted: far more than any loss needs, small enough that parsing stays instant. */
export const MAX_FORMULA_LENGTH = 4000;

/** Parses and checks a formula. Errors carry the offending character range and say what is wrong. */
export function parseFormula(source: string): ParseResult {
  if (source.length > MAX_FORMULA_LENGTH) {
    return {
      ok: false,
      error: {
        message: `the formula is ${source.length} characters long; at most ${MAX_FORMULA_LENGTH} are allowed`,
        index: MAX_FORMULA_LENGTH,
        length: source.length - MAX_FORMULA_LENGTH,
      },
    };
  }
  try {
    const program = parseProgram(source);
    assertDependsOnPolicy(program);
    return { ok: true, formula: { source, program } };
  } catch (e) {
    if (e instanceof FormulaSyntaxError) return { ok: false, error: { message: e.message, index: e.index, length: e.length } };
    throw e;
  }
}

/** parseFormula that throws an Error whose message is the formula-with-caret text (for the CLI and workers). */
export function parseFormulaOrThrow(source: string): Formula {
  const r = parseFormula(source);
  if (!r.ok) throw new FormulaParseError(source, r.error);
  return r.formula;
}

export class FormulaParseError extends Error {
  constructor(
    readonly source: string,
    readonly error: FormulaError,
  ) {
    super(`invalid loss formula: ${error.message} (at character ${error.index + 1})`);
    this.name = 'FormulaParseError';
  }
}

export type FormulaPoint = Record<FormulaVar, number>;

/**
 * The loss and dL/dlogp_w, dL/dlogp_l at one pair, in float64 by forward-mode dual numbers; sg(x) has zero
 * derivative. Non-finite values (log of a negative, division by zero) come back as NaN or ±Infinity.
 */
export function evaluateFormula(f: Formula, p: FormulaPoint): { loss: number; grad_w: number; grad_l: number } {
  return evaluateProgram(f.program, p);
}
