import { stringify } from 'csv-stringify';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

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
  await pipeline(source, stringify({ header: true, columns: header }), fs.createWriteStream(file));
  return count;
}
