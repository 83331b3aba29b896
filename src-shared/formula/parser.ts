import { FORMULA_FUNCTIONS, FORMULA_VARS, isFormulaFunction, isFormulaVar, type BinaryOp, type Binding, type Expr, type Program } from './ast';
import { FormulaSyntaxError } from './errors';
import { closestName } from './suggest';
import { tokenize, type Token } from './tokens';

/** Binding power of each binary operator; `^` binds tighter than unary minus (−x^2 = −(x^2)) and is right-associative. */
const PREC: Record<BinaryOp, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '^': 4 };
const UNARY_PREC = 3;

/** The paper's short names, which people will type from habit. */
const ALIASES: Record<string, string> = { lw: 'logp_w', ll: 'logp_l', refw: 'ref_w', refl: 'ref_l', ref_lw: 'ref_w', ref_ll: 'ref_l' };

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the formula';
  if (t.kind === 'sep') return t.text === ';' ? "';'" : 'a line break';
  return JSON.stringify(t.text);
}

/** "unexpected ';'", or, at the end, "the formula ends too soon". */
function unexpected(t: Token): string {
  return t.kind === 'eof' ? 'the formula ends too soon' : `unexpected ${describe(t)}`;
}

function spanOf(first: { index: number }, last: { index: number; length: number }): { index: number; length: number } {
  return { index: first.index, length: last.index + last.length - first.index };
}

/**
 * Recursive-descent (Pratt) parser over the token list. Names are resolved while parsing, so an unknown
 * name, a sub-expression used before its definition and a wrong argument count are reported at the token.
 */
class Parser {
  private pos = 0;
  private readonly defined = new Set<string>();

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private fail(t: Token, message: string): never {
    throw new FormulaSyntaxError(message, t.index, Math.max(t.text.length, t.kind === 'eof' ? 0 : 1));
  }

  program(): Program {
    const bindings: Binding[] = [];
    let result: Expr | undefined;
    let lastDefinition: Token | undefined;
    this.skipSeparators();
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (t.kind === 'ident' && this.tokens[this.pos + 1].kind === 'assign') {
        bindings.push(this.binding());
        lastDefinition = t;
        result = undefined;
      } else {
        if (result !== undefined) this.fail(t, 'only the last line may be a bare expression (the loss); give this one a name: name = …');
        result = this.expression(0);
      }
      const after = this.peek();
      if (after.kind !== 'sep' && after.kind !== 'eof') {
        const hint = after.kind === 'num' || after.kind === 'ident' || after.kind === 'lparen' ? ' (write * for a product)' : '';
        this.fail(after, `${unexpected(after)}: expected an operator, ';' or a line break${hint}`);
      }
      this.skipSeparators();
    }
    if (result === undefined) {
      if (lastDefinition)
        this.fail(lastDefinition, `the formula ends with the definition of ${lastDefinition.text}; the last line must be the loss expression`);
      throw new FormulaSyntaxError('the formula is empty: write the loss as an expression, e.g. -logsigmoid(beta * (logp_w - ref_w - logp_l + ref_l))', 0, 0);
    }
    return { bindings, result };
  }

  private skipSeparators(): void {
    while (this.peek().kind === 'sep') this.pos++;
  }

  private binding(): Binding {
    const name = this.next();
    this.next(); // '='
    if (isFormulaVar(name.text)) this.fail(name, `${name.text} is an input and cannot be redefined; pick another name`);
    if (isFormulaFunction(name.text)) this.fail(name, `${name.text} is a function and cannot be redefined; pick another name`);
    if (this.defined.has(name.text)) this.fail(name, `${name.text} is already defined above; pick another name`);
    const expr = this.expression(0);
    this.defined.add(name.text);
    return { name: name.text, expr };
  }

  private expression(minPrec: number): Expr {
    let left = this.prefix();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') return left;
      const op = t.text as BinaryOp;
      const prec = PREC[op];
      if (prec < minPrec) return left;
      this.next();
      const right = this.expression(op === '^' ? prec : prec + 1);
      left = { kind: 'bin', op, left, right, ...spanOf(left, right) };
    }
  }

  private prefix(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        if (!Number.isFinite(t.value)) this.fail(t, `${t.text} is too large a number`);
        return { kind: 'num', value: t.value as number, index: t.index, length: t.text.length };
      case 'op':
        if (t.text === '-' || t.text === '+') {
          const arg = this.expression(UNARY_PREC);
          return t.text === '+' ? arg : { kind: 'neg', arg, ...spanOf(t, arg) };
        }
        return this.fail(t, `${unexpected(t)}: expected a number, a name or '(' before it`);
      case 'lparen': {
        const inner = this.expression(0);
        const close = this.next();
        if (close.kind !== 'rparen') this.fail(close, `expected ')' to close the '(' at character ${t.index + 1}, found ${describe(close)}`);
        return { ...inner, ...spanOf(t, { index: close.index, length: 1 }) };
      }
      case 'ident':
        return this.name(t);
      default:
        return this.fail(t, `${unexpected(t)}: expected a number, a name or '('`);
    }
  }

  private name(t: Token): Expr {
    const isCall = this.peek().kind === 'lparen';
    if (isCall) {
      if (!isFormulaFunction(t.text)) {
        if (isFormulaVar(t.text) || this.defined.has(t.text)) this.fail(t, `${t.text} is a value, not a function (write * for a product)`);
        this.unknown(t, Object.keys(FORMULA_FUNCTIONS), 'function');
      }
      return this.call(t);
    }
    if (isFormulaVar(t.text)) return { kind: 'var', name: t.text, index: t.index, length: t.text.length };
    if (this.defined.has(t.text)) return { kind: 'ref', name: t.text, index: t.index, length: t.text.length };
    if (isFormulaFunction(t.text)) this.fail(t, `${t.text} is a function: write ${t.text}(${'x, '.repeat(FORMULA_FUNCTIONS[t.text] - 1)}x)`);
    const later = this.tokens.slice(this.pos).some((u, k, rest) => u.kind === 'ident' && u.text === t.text && rest[k + 1]?.kind === 'assign');
    if (later) this.fail(t, `${t.text} is used before its definition; define it on an earlier line`);
    return this.unknown(t, [...FORMULA_VARS, ...this.defined], 'name');
  }

  private unknown(t: Token, candidates: readonly string[], what: string): never {
    const alias = ALIASES[t.text.toLowerCase()];
    const close = alias ?? closestName(t.text, candidates);
    const hint = close ? `; did you mean ${close}?` : `; known ${what}s: ${candidates.join(', ')}`;
    return this.fail(t, `unknown ${what} ${t.text}${hint}`);
  }

  private call(name: Token): Expr {
    const fn = name.text as keyof typeof FORMULA_FUNCTIONS;
    this.next(); // '('
    const args: Expr[] = [];
    let close = this.peek();
    if (close.kind !== 'rparen') {
      for (;;) {
        args.push(this.expression(0));
        const t = this.next();
        if (t.kind === 'rparen') {
          close = t;
          break;
        }
        if (t.kind !== 'comma') this.fail(t, `expected ',' or ')' in the arguments of ${fn}, found ${describe(t)}`);
      }
    } else this.next();
    const span = spanOf(name, { index: close.index, length: 1 });
    const arity = FORMULA_FUNCTIONS[fn];
    if (args.length !== arity) {
      const usage = fn === 'clip' ? 'clip(x, lo, hi)' : `${fn}(${['x', 'y'].slice(0, arity).join(', ')})`;
      throw new FormulaSyntaxError(`${fn} takes ${arity} argument${arity === 1 ? '' : 's'}, ${usage}, but got ${args.length}`, span.index, span.length);
    }
    return { kind: 'call', fn, args, ...span };
  }
}

/** Parses a formula's source into a Program; throws FormulaSyntaxError at the offending characters. */
export function parseProgram(source: string): Program {
  const tokens = tokenize(source);
  if (!tokens.ok) throw new FormulaSyntaxError(tokens.error.message, tokens.error.index, tokens.error.length);
  return new Parser(tokens.tokens).program();
}
