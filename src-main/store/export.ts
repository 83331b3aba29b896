import { stringify } from 'csv-stringify/sync';
import { stringify as stringifyStream } from 'csv-stringify';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { MetricStore } from './metrics';

export const LONG_HEADER = ['run_id', 'step', 'name', 'value'] as const;

/** Long-format CSV of the given runs' metrics (RFC 4180 quoting, header row), as one string. */
export function metricsCsv(metrics: MetricStore, runIds: number[]): string {
  const rows: (string | number)[][] = [];
  for (const [run, step, name, value] of metrics.iterateLong(runIds)) rows.push([run, step, name, value ?? '']);
  return stringify(rows, { header: true, columns: [...LONG_HEADER] });
}

/** The same CSV streamed to a file, for runs too big to hold as one string. Returns the row count. */
export function writeMetricsCsv(metrics: MetricStore, runIds: number[], file: string): Promise<number> {
  return writeCsvFile(
    (function* () {
      for (const [run, step, name, value] of metrics.iterateLong(runIds)) yield [run, step, name, value ?? ''];
    })(),
    [...LONG_HEADER],
    file,
  );
}

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
  await pipeline(source, stringifyStream({ header: true, columns: header }), fs.createWriteStream(file));
  return count;
}

/** Any table (compare table, sweep grid) as CSV with a header row. */
export function tableCsv(header: string[], rows: (string | number | null)[][]): string {
  return stringify(
    rows.map((r) => r.map((v) => v ?? '')),
    { header: true, columns: header },
  );
}
