import { METRICS_CSV_HEADER as LONG_HEADER } from '@shared/runs';
import { stringify } from 'csv-stringify/sync';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CSV_OPTIONS, writeCsvFile, type CsvRow } from '../util/csv-file';
import type { Db } from './db';
import type { MetricStore } from './metrics';

/** The runs' metrics as long-format rows (run_id, step, name, value; a missing value is an empty cell), lazily. */
export function* metricRows(metrics: MetricStore, runIds: number[]): Generator<(string | number)[]> {
  for (const [run, step, name, value] of metrics.iterateLong(runIds)) yield [run, step, name, value ?? ''];
}

/** Rows per page of metricPages: a few milliseconds of work between two turns of the event loop. */
export const EXPORT_PAGE_ROWS = 4096;

/**
 * The same rows as metricRows (same order: run, step, name), in pages with a turn of the event loop between
 * two pages, so a 500k-row export never holds the server still. Each page is read by primary-key seeks per
 * metric name ((run_id, name_id, step) is the key) and merged by step: no statement stays open between pages
 * (the runner keeps writing on the same connection) and no query sorts a whole run.
 */
export async function* metricPages(db: Db, runIds: number[], pageRows = EXPORT_PAGE_ROWS): AsyncGenerator<CsvRow[]> {
  const nextName = db.prepare(`SELECT MIN(name_id) FROM metrics WHERE run_id = ? AND name_id > ?`).pluck();
  const nameOf = db.prepare(`SELECT name FROM metric_names WHERE id = ?`).pluck();
  const slice = db.prepare(`SELECT step, value FROM metrics WHERE run_id = ? AND name_id = ? AND step >= ? ORDER BY step LIMIT ?`).raw();
  let first = true;
  for (const run of runIds) {
    const names: { id: number; name: string }[] = [];
    for (let id = nextName.get(run, -1) as number | null; id !== null; id = nextName.get(run, id) as number | null)
      names.push({ id, name: nameOf.get(id) as string });
    // SQLite's default (binary) collation, as ORDER BY n.name gives
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (!names.length) continue;
    const perName = Math.max(1, Math.ceil(pageRows / names.length));
    let from = Number.MIN_SAFE_INTEGER;
    for (;;) {
      if (!first) await nextTurn();
      first = false;
      const slices = names.map((n) => slice.all(run, n.id, from, perName) as [number, number | null][]);
      // A full slice may stop mid-run: the page ends at the earliest step where one did, so every row up to
      // that step is in this page and none after it is taken before its step's other names.
      let end = Infinity;
      for (const s of slices) if (s.length === perName) end = Math.min(end, s[s.length - 1][0]);
      const page: CsvRow[] = [];
      slices.forEach((s, i) => {
        for (const [step, value] of s) if (step <= end) page.push([run, step, names[i].name, value ?? '']);
      });
      page.sort((a, b) => (a[1] as number) - (b[1] as number)); // stable: names stay in order within a step
      if (page.length) yield page;
      if (end === Infinity) break;
      from = end + 1;
    }
  }
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
