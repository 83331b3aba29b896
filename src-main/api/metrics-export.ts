/**
 * Runs' metrics as long-format CSV text, produced page by page with a turn of the event loop between pages, so
 * an export of a 500k-row run never holds the process still (the web server keeps answering, the Electron main
 * process keeps drawing). Front doors either stream the pages (HTTP) or join them (IPC, which needs one string).
 */
import { METRICS_CSV_HEADER } from '@shared/runs';
import type { LabStore } from '../store';
import { metricPages } from '../store/export';
import { csvTextPages } from '../util/csv-file';

export interface MetricsExport {
  filename: string;
  /** the CSV text: the header, then one chunk per page of rows */
  chunks: AsyncIterable<string>;
  /** data rows in the chunks read so far (the header not counted) */
  rows(): number;
}

/** The export of some runs (which must exist: callers check, to fail before any byte is sent). */
export function metricsExport(store: LabStore, ids: number[]): MetricsExport {
  const filename =
    ids.length === 1
      ? `run-${ids[0]}-metrics.csv`
      : `runs-${ids.length > 5 ? `${ids.slice(0, 5).join('-')}-and-${ids.length - 5}-more` : ids.join('-')}-metrics.csv`;
  let rows = 0;
  const chunks = csvTextPages(metricPages(store.db, ids), [...METRICS_CSV_HEADER], (n) => (rows += n));
  return { filename, chunks, rows: () => rows };
}

/** The whole export as one string, still read in pages (memory is the caller's concern: ids are capped). */
export async function metricsCsvString(exp: MetricsExport): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of exp.chunks) parts.push(chunk);
  return parts.join('');
}
