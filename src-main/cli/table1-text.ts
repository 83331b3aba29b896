import { PAPER_LOSSES } from '@shared/losses';
import type { SweepSummary } from '@shared/sweeps';

const fmt = (x: number | undefined, d = 2) => (x === undefined ? '—' : x.toFixed(d));

/** Table 1 as text: rows = mask, columns = losses, "ours ± std (paper)". */
export function table1Text(summary: SweepSummary): string {
  const masks = [...new Set(summary.cells.map((c) => Number(c.key.mask)))].sort((a, b) => a - b);
  const losses = PAPER_LOSSES.filter((l) => summary.cells.some((c) => c.key.loss === l));
  const cell = (mask: number, loss: string) => summary.cells.find((c) => Number(c.key.mask) === mask && c.key.loss === loss);
  const head = ['mask', ...losses];
  const rows = masks.map((m) => [
    Number.isInteger(m * 10) ? m.toFixed(1) : String(m),
    ...losses.map((l) => {
      const c = cell(m, l);
      const s = c?.metrics.expectedUtility;
      if (!c || !s) return '—';
      const std = c.n > 1 ? ` ± ${fmt(s.std)}` : '';
      return `${fmt(s.mean)}${std}${c.paper === undefined ? '' : ` (${fmt(c.paper)})`}`;
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [
    'final expectedUtility, mean ± std over seeds (paper\'s Table 1 value in brackets; the paper\'s "reward" is read as expected utility)',
    line(head),
    ...rows.map(line),
  ].join('\n');
}
