import { PAPER_LOSSES } from '@shared/losses';
import type { SweepSummary } from '@shared/sweeps';

const fmt = (x: number | undefined, d = 2) => (x === undefined ? '—' : x.toFixed(d));

/** One metric as a mask × loss grid, "ours ± std", with the paper's value in brackets when `withPaper`. */
function grid(summary: SweepSummary, metric: string, withPaper: boolean): string[] {
  const masks = [...new Set(summary.cells.map((c) => Number(c.key.mask)))].sort((a, b) => a - b);
  const losses = PAPER_LOSSES.filter((l) => summary.cells.some((c) => c.key.loss === l));
  const cell = (mask: number, loss: string) => summary.cells.find((c) => Number(c.key.mask) === mask && c.key.loss === loss);
  const head = ['mask', ...losses];
  const rows = masks.map((m) => [
    Number.isInteger(m * 10) ? m.toFixed(1) : String(m),
    ...losses.map((l) => {
      const c = cell(m, l);
      const s = c?.metrics[metric];
      if (!c || !s) return '—';
      const std = c.n > 1 ? ` ± ${fmt(s.std)}` : '';
      return `${fmt(s.mean)}${std}${withPaper && c.paper !== undefined ? ` (${fmt(c.paper)})` : ''}`;
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), ...rows.map(line)];
}

/**
 * Table 1 as text: rows = mask, columns = losses. The paper is compared on expectedUtilityNormalized (its scale,
 * synthetic.md § Metrics); the raw expectedUtility follows without the paper's numbers, so the two are not mixed.
 */
export function table1Text(summary: SweepSummary): string {
  return [
    'R̃ = final expectedUtilityNormalized (u(y|x)/Z_x, the paper\'s scale), mean ± std over seeds; paper\'s Table 1 "reward" in brackets',
    ...grid(summary, 'expectedUtilityNormalized', true),
    '',
    "R = final expectedUtility (raw u(y|x) = e^{−α(y−x)²}, range (0, K]), mean ± std over seeds; not on the paper's scale",
    ...grid(summary, 'expectedUtility', false),
  ].join('\n');
}
