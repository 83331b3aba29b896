/**
 * One self-contained HTML file for the Table 1 reproduction and the sensitivity study (issue 13 item 3):
 * Table 1 ours vs the paper on expectedUtilityNormalized with mean ± 95% t-interval, the raw metric apart, the
 * sensitivity table with its summary sentence, Figure 2 heatmaps, the balance diagnostics over training and
 * Figure 1 as inline SVG, the settings the runs used, and the data as CSV downloads embedded in the file. No
 * script, stylesheet, font or image is fetched: the page must open the same from a mail attachment as from disk.
 * The same content as Markdown with the SVGs and CSVs as files beside it: table1ReportMarkdown.
 */
import { PAPER_LOSSES } from '@shared/losses';
import { paperRanking, sensitivityCells, type SensitivityStudy } from '@shared/sensitivity';
import { sensitivitySentence } from '@shared/sensitivity-sentence';
import { studentTQuantile } from '@shared/stats';
import type { SweepSummary } from '@shared/sweeps';
import type { ReportFigure } from './figures';

export interface ReportFigures {
  /** DPO beside bDPO, final policies, per mask */
  figure2: ReportFigure[];
  /** balance diagnostics and R̃ over training, one curve per loss */
  curves: ReportFigure[];
  /** the theory explorer's three settings, both samplings */
  figure1: ReportFigure[];
  /** where the runs the figures show come from, in words */
  source: string;
}

export interface Table1ReportInput {
  /** the Table 1 sweep's summary (cells keyed by mask and loss) */
  table1?: SweepSummary;
  /** the sensitivity sweep's study */
  sensitivity?: SensitivityStudy;
  meta: { appVersion: string; backend: string; seeds: number; createdAt: Date; config: Record<string, unknown> };
  figures?: ReportFigures;
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

interface GridCell {
  mean: number;
  half: number | null;
  n: number;
  paper: number | null;
  best: boolean;
}
interface Grid {
  metric: string;
  withPaper: boolean;
  masks: number[];
  losses: string[];
  cells: (GridCell | null)[][];
}

function gridOf(summary: SweepSummary, metric: string, withPaper: boolean): Grid {
  const masks = [...new Set(summary.cells.map((c) => Number(c.key.mask)))].sort((a, b) => a - b);
  const losses = PAPER_LOSSES.filter((l) => summary.cells.some((c) => c.key.loss === l));
  const cellOf = (m: number, l: string) => summary.cells.find((c) => Number(c.key.mask) === m && c.key.loss === l);
  const cells = masks.map((m) => {
    const best = Math.max(...losses.map((l) => cellOf(m, l)?.metrics[metric]?.mean ?? -Infinity));
    return losses.map((l): GridCell | null => {
      const c = cellOf(m, l);
      const s = c?.metrics[metric];
      if (!c || !s) return null;
      return { mean: s.mean, half: ci95Half(s.std, c.n), n: c.n, paper: withPaper ? (c.paper ?? null) : null, best: s.mean === best };
    });
  });
  return { metric, withPaper, masks, losses, cells };
}

function gridCsvRows(g: Grid, summary: SweepSummary): (string | number | null)[][] {
  return g.masks.flatMap((m, i) =>
    g.losses.flatMap((l, j) => {
      const c = g.cells[i][j];
      const std = summary.cells.find((x) => Number(x.key.mask) === m && x.key.loss === l)?.metrics[g.metric]?.std ?? null;
      return c ? [[g.metric, m, l, c.n, c.mean, std, c.half === null ? null : c.mean - c.half, c.half === null ? null : c.mean + c.half, c.paper]] : [];
    }),
  );
}

function gridHtml(g: Grid): string {
  const head = `<tr><th>mask</th>${g.losses.map((l) => `<th>${esc(l)}</th>`).join('')}</tr>`;
  const body = g.masks
    .map((m, i) => {
      const tds = g.cells[i].map((c) => {
        if (!c) return '<td>—</td>';
        const paper = c.paper !== null ? `<span class="paper">paper ${num(c.paper, 2)}</span>` : '';
        return `<td${c.best ? ' class="best"' : ''}>${num(c.mean, 2)}${c.half === null ? '' : ` ± ${num(c.half, 2)}`}<span class="n">n=${c.n}</span>${paper}</td>`;
      });
      return `<tr><th>${m.toFixed(1)}</th>${tds.join('')}</tr>`;
    })
    .join('');
  return `<table>${head}${body}</table>`;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.map(mdCell).join(' | ')} |`).join('\n');
}

function gridMd(g: Grid): string {
  return mdTable(
    ['mask', ...g.losses],
    g.masks.map((m, i) => [
      m.toFixed(1),
      ...g.cells[i].map((c) => {
        if (!c) return '—';
        const v = `${num(c.mean, 2)}${c.half === null ? '' : ` ± ${num(c.half, 2)}`}`;
        return `${c.best ? `**${v}**` : v}${c.paper !== null ? ` (paper ${num(c.paper, 2)})` : ''}`;
      }),
    ]),
  );
}

const TABLE1_CSV_HEADER = ['metric', 'mask', 'loss', 'n', 'mean', 'std', 'ci95_low', 'ci95_high', 'paper'];
const T1_TEXT = {
  title: 'Table 1: ours beside the paper',
  normalized:
    "Final expectedUtilityNormalized R̃ = Σ_x Σ_y π(y|x)·u(y|x)/Z_x, Z_x = Σ_y u(y|x): the paper's u(y|x) ∝ e^(−α(y−x)²) read as a distribution over y, which is on the scale of its Table 1. The paper does not define its “reward”: this metric is our reading of it. Mean ± half-width of the 95% t-interval over seeds; the paper's value beside each cell; bold: best loss per mask.",
  rawTitle: 'Raw expected utility (not on the paper’s scale)',
  raw: 'Final expectedUtility R = Σ_x Σ_y π(y|x)·u(y|x), range (0, K]; shown for completeness, not compared with the paper.',
};

function table1Section(summary: SweepSummary): { html: string; md: string; csv: string } {
  const norm = gridOf(summary, 'expectedUtilityNormalized', true);
  const raw = gridOf(summary, 'expectedUtility', false);
  const html = `<h2>${esc(T1_TEXT.title)}</h2>
<p>Final <code>expectedUtilityNormalized</code> R̃ = Σ<sub>x</sub> Σ<sub>y</sub> π(y|x)·u(y|x)/Z<sub>x</sub>, Z<sub>x</sub> = Σ<sub>y</sub> u(y|x):
the paper's u(y|x) ∝ e<sup>−α(y−x)²</sup> read as a distribution over y, which is on the scale of its Table 1. The paper does not define its “reward”: this metric is our reading of it. Mean ± half-width of the 95% t-interval over seeds; the paper's value below each cell; bold: best loss per mask.</p>
${gridHtml(norm)}
<h3>${esc(T1_TEXT.rawTitle)}</h3>
<p>Final <code>expectedUtility</code> R = Σ<sub>x</sub> Σ<sub>y</sub> π(y|x)·u(y|x), range (0, K]; shown for completeness, not compared with the paper.</p>
${gridHtml(raw)}`;
  const md = `## ${T1_TEXT.title}\n\n${T1_TEXT.normalized}\n\n${gridMd(norm)}\n\n### ${T1_TEXT.rawTitle}\n\n${T1_TEXT.raw}\n\n${gridMd(raw)}`;
  return { html, md, csv: toCsv(TABLE1_CSV_HEADER, [...gridCsvRows(norm, summary), ...gridCsvRows(raw, summary)]) };
}

function sensitivityCsv(study: SensitivityStudy): string {
  return toCsv(
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
}

const SENS_HEADER = ['model', 'steps', 'β', 'lr', 'mask', 'τ', 'bDPO − DPO', 'p', 'p Holm', 'better (p < 0.05)', 'our ranking, best first'];
const sensCells = (r: SensitivityStudy['rows'][number]) => sensitivityCells(r, { p: (p) => num(p, 3), rankSep: ' › ' });
const sensExplain = (study: SensitivityStudy) =>
  `Per setting: our ranking of the six losses by final ${study.metric} (mean over seeds), Kendall's τ-b against the paper's Table 1 ranking at that mask (mask 0: ${paperRanking(0).join(' › ')}), mean bDPO − DPO, Welch's t-test (two-sided) and its Holm-adjusted p over the ${study.rows.length} settings.`;

function sensitivitySection(study: SensitivityStudy): { html: string; md: string; csv: string } {
  const rows = study.rows.map((r) => {
    const c = sensCells(r).map(esc);
    return `<tr>${c
      .slice(0, -1)
      .map((x) => `<td>${x}</td>`)
      .join('')}<td class="rank">${c[c.length - 1]}</td></tr>`;
  });
  const sentence = sensitivitySentence(study);
  const html = `<h2>Sensitivity: the settings the paper left open</h2>
<p class="sentence">${esc(sentence)}</p>
<p>${esc(sensExplain(study))}</p>
<table><tr>${SENS_HEADER.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>
${rows.join('\n')}</table>`;
  const md = `## Sensitivity: the settings the paper left open\n\n> ${sentence}\n\n${sensExplain(study)}\n\n${mdTable(SENS_HEADER, study.rows.map(sensCells))}`;
  return { html, md, csv: sensitivityCsv(study) };
}

const FIG_TEXT = {
  figure2: {
    title: 'Figure 2: final policies, DPO beside bDPO',
    intro: 'The paper’s Figure 2: π(y|x) after training, rows prompt x, columns response y; the best response is the diagonal.',
  },
  curves: {
    title: 'Balance diagnostics over training',
    intro: 'One curve per loss, in the colours the app uses for it; the mean over the seeds of the runs in brackets.',
  },
  figure1: {
    title: 'Figure 1: where DPO and the balanced update push probability',
    intro:
      'Theory explorer (§4.2, Lemma 2): responses i = 0..N−1, model p_i ∝ exp(−(i−μP)²/(2σ²)), utility q_i ∝ exp(−(i−μQ)²/(2σ²)). DPO’s expected update weight w_i = Σ_{j≠i} (q_i p_j − q_j p_i) / ((q_i + q_j)(p_i + p_j)) (shiftless sampling: each term times p_i p_j) against the balanced w_i·p_i; every curve normalised to max |·| = 1.',
  },
};

/** The figures as HTML sections, each SVG inline. */
function figuresHtml(f: ReportFigures): string {
  const fig = (x: ReportFigure, cls: string) =>
    `<figure class="${cls}" id="${esc(x.id)}">${x.svg.replace(/^<\?xml[^>]*>\s*/, '')}${x.caption ? `<figcaption>${esc(x.caption)}</figcaption>` : ''}</figure>`;
  const sec = (key: keyof typeof FIG_TEXT, figs: ReportFigure[], cls: string, extra = '') =>
    figs.length
      ? `<h2>${esc(FIG_TEXT[key].title)}</h2>\n<p>${esc(FIG_TEXT[key].intro)}${extra}</p>\n<div class="figs">${figs.map((x) => fig(x, cls)).join('\n')}</div>`
      : '';
  return [sec('figure2', f.figure2, 'wide', ` ${esc(f.source)}`), sec('curves', f.curves, 'chart', ` ${esc(f.source)}`), sec('figure1', f.figure1, 'small')]
    .filter(Boolean)
    .join('\n');
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
  if (input.figures) parts.push(figuresHtml(input.figures));
  const m = input.meta;
  const config = Object.entries(m.config)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td class="cfg">${esc(JSON.stringify(v))}</td></tr>`)
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
td.cfg{text-align:left;font:12px/1.35 ui-monospace,monospace;word-break:break-word}
code{font-size:12px}.figs{display:flex;flex-wrap:wrap;gap:12px 16px;align-items:flex-start}
figure{margin:0}figure svg{display:block;max-width:100%;height:auto}figure.chart{width:530px}figure.small{width:340px}
figcaption{font-size:12px;color:#4a5263;max-width:100%}figure.wide figcaption{max-width:560px}
@media print{figure{break-inside:avoid}}
</style></head><body>
<h1>Gradient imbalance in DPO: Table 1 reproduction</h1>
<p>Ma et al. (2025), “Gradient Imbalance in Direct Preference Optimization”, arXiv:2502.20847: the synthetic task of §6.1 and Appendix B. DPO Lab ${esc(m.appVersion)}, backend ${esc(m.backend)}, ${m.seeds} seed${m.seeds === 1 ? '' : 's'} per cell, written ${esc(m.createdAt.toISOString())}.</p>
${parts.join('\n')}
<h2>Data and settings</h2>
<p>${downloads.join(' · ') || 'no data'}</p>
<table>${config}</table>
</body></html>
`;
}

export interface ReportFile {
  filename: string;
  content: string;
}

/**
 * The same report as Markdown: `<base>.md` plus each figure as `<base>-<figure id>.svg` and the data as
 * `<base>-table1.csv` / `<base>-sensitivity.csv`, all meant to lie in one folder (links are relative).
 */
export function table1ReportMarkdown(input: Table1ReportInput, base: string): { md: string; assets: ReportFile[] } {
  const assets: ReportFile[] = [];
  const parts: string[] = [];
  const data: string[] = [];
  if (input.table1) {
    const t = table1Section(input.table1);
    parts.push(t.md);
    assets.push({ filename: `${base}-table1.csv`, content: t.csv });
    data.push(`[Table 1 cells (CSV)](${base}-table1.csv)`);
  }
  if (input.sensitivity) {
    const s = sensitivitySection(input.sensitivity);
    parts.push(s.md);
    assets.push({ filename: `${base}-sensitivity.csv`, content: s.csv });
    data.push(`[sensitivity settings (CSV)](${base}-sensitivity.csv)`);
  }
  const f = input.figures;
  if (f) {
    const sec = (key: keyof typeof FIG_TEXT, figs: ReportFigure[], extra = '') => {
      if (!figs.length) return;
      const lines = figs.map((x) => {
        const name = `${base}-${x.id}.svg`;
        assets.push({ filename: name, content: x.svg });
        return `![${x.title}](${name})${x.caption ? `\n\n*${x.caption}*` : ''}`;
      });
      parts.push(`## ${FIG_TEXT[key].title}\n\n${FIG_TEXT[key].intro}${extra}\n\n${lines.join('\n\n')}`);
    };
    sec('figure2', f.figure2, ` ${f.source}`);
    sec('curves', f.curves, ` ${f.source}`);
    sec('figure1', f.figure1);
  }
  const m = input.meta;
  const md = [
    '# Gradient imbalance in DPO: Table 1 reproduction',
    `Ma et al. (2025), “Gradient Imbalance in Direct Preference Optimization”, arXiv:2502.20847: the synthetic task of §6.1 and Appendix B. DPO Lab ${m.appVersion}, backend ${m.backend}, ${m.seeds} seed${m.seeds === 1 ? '' : 's'} per cell, written ${m.createdAt.toISOString()}.`,
    ...parts,
    '## Data and settings',
    data.join(' · ') || 'no data',
    ...Object.entries(m.config).map(([k, v]) => `**${k}**\n\n\`\`\`json\n${JSON.stringify(v, null, 2)}\n\`\`\``),
    '',
  ].join('\n\n');
  return { md, assets };
}
