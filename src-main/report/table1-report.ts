/**
 * One self-contained HTML file for the Table 1 reproduction and the sensitivity study (issue 13 item 3, the
 * tables and text; the charts are not in it yet): Table 1 ours vs the paper on expectedUtilityNormalized with
 * mean ± 95% t-interval, the raw metric apart, the sensitivity table with its summary sentence, the settings the
 * runs used, and the data as CSV downloads embedded in the file. No script, stylesheet, font or image is fetched:
 * the page must open the same from a mail attachment as from disk.
 */
import { PAPER_LOSSES } from '@shared/losses';
import { paperRanking, type SensitivityStudy } from '@shared/sensitivity';
import { sensitivitySentence } from '@shared/sensitivity-sentence';
import { studentTQuantile } from '@shared/stats';
import type { SweepSummary } from '@shared/sweeps';

export interface Table1ReportInput {
  /** the Table 1 sweep's summary (cells keyed by mask and loss) */
  table1?: SweepSummary;
  /** the sensitivity sweep's study */
  sensitivity?: SensitivityStudy;
  meta: { appVersion: string; backend: string; seeds: number; createdAt: Date; config: Record<string, unknown> };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (x: number | null | undefined, d: number) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** Half-width of the 95% t-interval of a mean from its sample std and n; null below two values. */
export function ci95Half(std: number, n: number): number | null {
  return n >= 2 ? (studentTQuantile(0.975, n - 1) * std) / Math.sqrt(n) : null;
}

/** RFC 4180 CSV: fields with a comma, quote or newline are quoted. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const field = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

const download = (name: string, csv: string, label: string) =>
  `<a download="${esc(name)}" href="data:text/csv;charset=utf-8;base64,${Buffer.from(csv, 'utf8').toString('base64')}">${esc(label)}</a>`;

function table1Section(summary: SweepSummary): { html: string; csv: string } {
  const masks = [...new Set(summary.cells.map((c) => Number(c.key.mask)))].sort((a, b) => a - b);
  const losses = PAPER_LOSSES.filter((l) => summary.cells.some((c) => c.key.loss === l));
  const cell = (m: number, l: string) => summary.cells.find((c) => Number(c.key.mask) === m && c.key.loss === l);
  const csvRows: (string | number | null)[][] = [];
  const grid = (metric: string, withPaper: boolean) => {
    const head = `<tr><th>mask</th>${losses.map((l) => `<th>${esc(l)}</th>`).join('')}</tr>`;
    const body = masks
      .map((m) => {
        const best = Math.max(...losses.map((l) => cell(m, l)?.metrics[metric]?.mean ?? -Infinity));
        const tds = losses.map((l) => {
          const c = cell(m, l);
          const s = c?.metrics[metric];
          if (!c || !s) return '<td>—</td>';
          const half = ci95Half(s.std, c.n);
          csvRows.push([
            metric,
            m,
            l,
            c.n,
            s.mean,
            s.std,
            half === null ? null : s.mean - half,
            half === null ? null : s.mean + half,
            withPaper ? (c.paper ?? null) : null,
          ]);
          const paper = withPaper && c.paper !== undefined ? `<span class="paper">paper ${num(c.paper, 2)}</span>` : '';
          return `<td${s.mean === best ? ' class="best"' : ''}>${num(s.mean, 2)}${half === null ? '' : ` ± ${num(half, 2)}`}<span class="n">n=${c.n}</span>${paper}</td>`;
        });
        return `<tr><th>${m.toFixed(1)}</th>${tds.join('')}</tr>`;
      })
      .join('');
    return `<table>${head}${body}</table>`;
  };
  const html = `<h2>Table 1: ours beside the paper</h2>
<p>Final <code>expectedUtilityNormalized</code> R̃ = Σ<sub>x</sub> Σ<sub>y</sub> π(y|x)·u(y|x)/Z<sub>x</sub>, Z<sub>x</sub> = Σ<sub>y</sub> u(y|x):
the paper's u(y|x) ∝ e<sup>−α(y−x)²</sup> read as a distribution over y, which is on the scale of its Table 1. Mean ± half-width of the 95% t-interval over seeds; the paper's value below each cell; bold: best loss per mask.</p>
${grid('expectedUtilityNormalized', true)}
<h3>Raw expected utility (not on the paper's scale)</h3>
<p>Final <code>expectedUtility</code> R = Σ<sub>x</sub> Σ<sub>y</sub> π(y|x)·u(y|x), range (0, K]; shown for completeness, not compared with the paper.</p>
${grid('expectedUtility', false)}`;
  return { html, csv: toCsv(['metric', 'mask', 'loss', 'n', 'mean', 'std', 'ci95_low', 'ci95_high', 'paper'], csvRows) };
}

function sensitivitySection(study: SensitivityStudy): { html: string; csv: string } {
  const rows = study.rows.map(
    (r) =>
      `<tr><td>${esc(r.setting.model)}</td><td>${r.setting.steps}</td><td>${r.setting.beta}</td><td>${r.setting.lr}</td><td>${r.setting.mask}</td><td>${num(r.tau, 2)}</td><td>${num(r.bdpoMinusDpo, 3)}</td><td>${num(r.welch?.p, 3)}</td><td>${num(r.pHolm, 3)}</td><td>${esc(r.better)}</td><td class="rank">${r.ranking.map(esc).join(' › ')}</td></tr>`,
  );
  const html = `<h2>Sensitivity: the settings the paper left open</h2>
<p class="sentence">${esc(sensitivitySentence(study))}</p>
<p>Per setting: our ranking of the six losses by final <code>${esc(study.metric)}</code> (mean over seeds), Kendall's τ-b against the paper's Table 1 ranking at that mask
(mask 0: ${paperRanking(0).map(esc).join(' › ')}), mean bDPO − DPO, Welch's t-test (two-sided) and its Holm-adjusted p over the ${study.rows.length} settings.</p>
<table><tr><th>model</th><th>steps</th><th>β</th><th>lr</th><th>mask</th><th>τ</th><th>bDPO − DPO</th><th>p</th><th>p Holm</th><th>better (p &lt; 0.05)</th><th>our ranking, best first</th></tr>
${rows.join('\n')}</table>`;
  const csv = toCsv(
    ['model', 'steps', 'beta', 'lr', 'mask', 'tau', 'bdpo_minus_dpo', 'welch_t', 'welch_df', 'p', 'p_holm', 'better', 'ranking'],
    study.rows.map((r) => [
      r.setting.model,
      r.setting.steps,
      r.setting.beta,
      r.setting.lr,
      r.setting.mask,
      r.tau,
      r.bdpoMinusDpo,
      r.welch?.t ?? null,
      r.welch?.df ?? null,
      r.welch?.p ?? null,
      r.pHolm,
      r.better,
      r.ranking.join(' > '),
    ]),
  );
  return { html, csv };
}

/** The report as one HTML string. */
export function table1ReportHtml(input: Table1ReportInput): string {
  const parts: string[] = [];
  const downloads: string[] = [];
  if (input.table1) {
    const t = table1Section(input.table1);
    parts.push(t.html);
    downloads.push(download('table1.csv', t.csv, 'Table 1 cells (CSV)'));
  }
  if (input.sensitivity) {
    const s = sensitivitySection(input.sensitivity);
    parts.push(s.html);
    downloads.push(download('sensitivity.csv', s.csv, 'sensitivity settings (CSV)'));
  }
  const m = input.meta;
  const config = Object.entries(m.config)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(JSON.stringify(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>DPO Lab: Table 1 reproduction</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2433}
table{border-collapse:collapse;margin:8px 0 18px}th,td{border:1px solid #d5dae3;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f3f5f9}td.best{font-weight:700}td .n,td .paper{display:block;font-size:11px;color:#6b7385}
td.rank{text-align:left;white-space:nowrap;font-size:12px}.sentence{font-size:15px;background:#eef3ff;padding:10px 12px;border-radius:6px}
code{font-size:12px}
</style></head><body>
<h1>Gradient imbalance in DPO: Table 1 reproduction</h1>
<p>Ma et al. (2025), synthetic task (§6.1). DPO Lab ${esc(m.appVersion)}, backend ${esc(m.backend)}, ${m.seeds} seed${m.seeds === 1 ? '' : 's'} per cell, written ${esc(m.createdAt.toISOString())}.</p>
${parts.join('\n')}
<h2>Data and settings</h2>
<p>${downloads.join(' · ') || 'no data'}</p>
<table>${config}</table>
</body></html>
`;
}
