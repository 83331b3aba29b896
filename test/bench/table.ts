/** One measured number of a benchmark. */
export interface BenchRow {
  name: string;
  /** tfjs backend (or 'node' for non-tensor work) */
  backend: string;
  value: number;
  unit: string;
  note?: string;
}

function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** Formats rows as an aligned plain-text table (also valid Markdown). */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = ['benchmark', 'backend', 'value', 'unit', 'note'];
  const body = rows.map((r) => [r.name, r.backend, fmtValue(r.value), r.unit, r.note ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 2 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`, ...body.map(line)].join('\n');
}

/** Prints the table to stdout. */
export function printTable(rows: readonly BenchRow[]): void {
  console.log(formatTable(rows));
}
