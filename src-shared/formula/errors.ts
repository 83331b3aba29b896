/** A problem in a formula, located at a character range of its source. */
export interface FormulaError {
  message: string;
  /** 0-based offset into the source */
  index: number;
  /** number of characters the problem spans (at least 1, except at the end of the source) */
  length: number;
}

/** Thrown inside the parser and checker; parseFormula turns it into a FormulaError result. */
export class FormulaSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly length: number,
  ) {
    super(message);
    this.name = 'FormulaSyntaxError';
  }
}

/**
 * The source with a caret line under the offending characters, for terminals: the line holding the error,
 * then `^^^` under the span, then the message. Multi-line formulas show only the offending line.
 */
export function formatFormulaError(source: string, e: FormulaError): string {
  const lineStart = source.lastIndexOf('\n', e.index - 1) + 1;
  const nl = source.indexOf('\n', lineStart);
  const lineEnd = nl < 0 ? source.length : nl;
  const line = source.slice(lineStart, lineEnd);
  const col = e.index - lineStart;
  const width = Math.max(1, Math.min(e.length, lineEnd - e.index));
  const lineNo = source.slice(0, lineStart).split('\n').length;
  const where = source.includes('\n') ? `line ${lineNo}, column ${col + 1}` : `column ${col + 1}`;
  return `${line}\n${' '.repeat(col)}${'^'.repeat(width)}\n${where}: ${e.message}`;
}
