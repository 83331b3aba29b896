import { stringify } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
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

export type CsvRow = (string | number)[];

/** Options every CSV the lab writes shares: a header row and formula-safe text cells. */
export const CSV_OPTIONS = { header: true, cast: { string: neutraliseFormula } } as const;

/**
 * Rows (any iterable, consumed lazily) streamed as CSV with a header row to a file, or to a stream that stays
 * open afterwards (stdout). Returns the row count.
 */
export async function writeCsvFile(rows: Iterable<(string | number)[]>, header: string[], file: string | NodeJS.WritableStream): Promise<number> {
  let count = 0;
  const source = Readable.from(
    (function* () {
      for (const r of rows) {
        count++;
        yield r;
      }
    })(),
  );
  const csv = stringify({ ...CSV_OPTIONS, columns: header });
  if (typeof file === 'string') await pipeline(source, csv, fs.createWriteStream(file));
  else await pipeline(source, csv, file, { end: false });
  return count;
}

/**
 * CSV text for rows that arrive in pages (an export read page by page): the header, then one string per page.
 * `counted` hears each page's row count.
 */
export async function* csvTextPages(pages: AsyncIterable<CsvRow[]>, header: string[], counted: (rows: number) => void = () => {}): AsyncGenerator<string> {
  yield stringifySync([], { ...CSV_OPTIONS, columns: header });
  for await (const page of pages) {
    counted(page.length);
    yield stringifySync(page, { cast: CSV_OPTIONS.cast });
  }
}
