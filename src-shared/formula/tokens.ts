import type { FormulaError } from './errors';

export type TokenKind = 'num' | 'ident' | 'op' | 'lparen' | 'rparen' | 'comma' | 'assign' | 'sep' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The source text of the token ('' for eof). */
  text: string;
  /** 0-based offset into the source. */
  index: number;
  /** Numeric value of a 'num' token. */
  value?: number;
}

const OPS = new Set(['+', '-', '*', '/', '^']);
/** A token after which a line break continues the statement instead of ending it (e.g. `a +⏎ b`). */
const CONTINUES = (t: Token | undefined) => t !== undefined && (t.kind === 'op' || t.kind === 'assign' || t.kind === 'comma' || t.kind === 'lparen');

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; error: FormulaError };

/**
 * Splits a formula into tokens. `;` and line breaks separate statements; a line break inside parentheses or
 * right after an operator, `=` or `,` does not, so a long expression can span lines. `#` starts a comment.
 */
export function tokenize(source: string): TokenizeResult {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (c === '\n' || c === ';') {
      const prev = tokens[tokens.length - 1];
      if (c === ';' || (depth === 0 && !CONTINUES(prev))) {
        if (c === ';' && depth > 0) return { ok: false, error: { message: `';' inside parentheses: close them first`, index: i, length: 1 } };
        tokens.push({ kind: 'sep', text: c, index: i });
      }
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const num = NUMBER.exec(rest);
    if (num) {
      const text = num[0];
      tokens.push({ kind: 'num', text, index: i, value: Number(text) });
      i += text.length;
      continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], index: i });
      i += id[0].length;
      continue;
    }
    if (OPS.has(c)) tokens.push({ kind: 'op', text: c, index: i });
    else if (c === '(') {
      depth++;
      tokens.push({ kind: 'lparen', text: c, index: i });
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
      tokens.push({ kind: 'rparen', text: c, index: i });
    } else if (c === ',') tokens.push({ kind: 'comma', text: c, index: i });
    else if (c === '=') tokens.push({ kind: 'assign', text: c, index: i });
    else {
      const hint = c === '.' ? ' (a number needs a digit next to its point)' : '';
      return { ok: false, error: { message: `unexpected character ${JSON.stringify(c)}${hint}`, index: i, length: 1 } };
    }
    i++;
  }
  tokens.push({ kind: 'eof', text: '', index: source.length });
  return { ok: true, tokens };
}
