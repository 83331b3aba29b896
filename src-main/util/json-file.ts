import { parse as parseTolerant, printParseErrorCode, type ParseError } from 'jsonc-parser';

/**
 * JSON.parse with an error that names the source and the line and column of the first problem
 * (V8's own messages often give neither).
 */
export function parseJsonText(text: string, source: string): unknown {
  // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse refuses it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    const errors: ParseError[] = [];
    parseTolerant(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    if (!first) throw new Error(`${source}: not valid JSON (${(err as Error).message})`, { cause: err });
    const before = text.slice(0, first.offset);
    const line = before.split('\n').length;
    const column = first.offset - before.lastIndexOf('\n');
    throw new Error(`${source}: not valid JSON at line ${line}, column ${column}: ${printParseErrorCode(first.error)}`, { cause: err });
  }
}
