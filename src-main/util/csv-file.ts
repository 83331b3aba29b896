import { stringify } from 'csv-stringify';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

const NUMBER_LIKE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula: a run name like
 * "=HYPERLINK(…)" would execute on opening the export. Such text cells get a leading apostrophe (OWASP's
 * advice); numbers, and text that is just a number, are left as they are.
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) && !NUMBER_LIKE.test(value) ? `'${value}` : value;
}

/** Options every CSV the lab writes shares: a header row and formula-safe text cells. */
export const CSV_OPTIONS = { header: true, cast: { string: neutraliseFormula } } as const;

/** Rows (any iterable, consumed lazily) streamed to a CSV file with a header row. Returns the row count. */
export async function writeCsvFile(rows: Iterable<(string | number)[]>, header: string[], file: string): Promise<number> {
  let count = 0;
  const source = Readable.from(
    (function* () {
      for (const r of rows) {
        count++;
        yield r;
      }
    })(),
  );
  await pipeline(source, stringify({ ...CSV_OPTIONS, columns: header }), fs.createWriteStream(file));
  return count;
}
