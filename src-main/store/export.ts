import { METRICS_CSV_HEADER as LONG_HEADER } from '@shared/runs';
import { stringify } from 'csv-stringify/sync';
import { CSV_OPTIONS, writeCsvFile } from '../util/csv-file';
import type { MetricStore } from './metrics';

/** The runs' metrics as long-format rows (run_id, step, name, value; a missing value is an empty cell), lazily. */
export function* metricRows(metrics: MetricStore, runIds: number[]): Generator<(string | number)[]> {
  for (const [run, step, name, value] of metrics.iterateLong(runIds)) yield [run, step, name, value ?? ''];
}

/** Long-format CSV of the given runs' metrics (RFC 4180 quoting, header row), as one string. */
export function metricsCsv(metrics: MetricStore, runIds: number[]): string {
  return stringify([...metricRows(metrics, runIds)], { ...CSV_OPTIONS, columns: [...LONG_HEADER] });
}

/** The same CSV streamed to a file, for runs too big to hold as one string. Returns the row count. */
export function writeMetricsCsv(metrics: MetricStore, runIds: number[], file: string): Promise<number> {
  return writeCsvFile(metricRows(metrics, runIds), [...LONG_HEADER], file);
}

/** Any table (compare table, sweep grid) as CSV with a header row. */
export function tableCsv(header: string[], rows: (string | number | null)[][]): string {
  return stringify(
    rows.map((r) => r.map((v) => v ?? '')),
    { ...CSV_OPTIONS, columns: header },
  );
}
