import { sensitivityCells, type SensitivityStudy } from '@shared/sensitivity';
import { sensitivitySentence } from '@shared/sensitivity-sentence';

const num = (x: number | null | undefined, d: number) => (x === null || x === undefined ? '—' : x.toFixed(d));
const pText = (p: number | null) => (p === null ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3));

/** The sensitivity study as text: one line per setting, then the counts the summary sentence rests on. */
export function sensitivityText(study: SensitivityStudy): string {
  const head = ['model', 'steps', 'beta', 'lr', 'mask', 'tau', 'bdpo−dpo', 'p', 'p(Holm)', 'better', 'our ranking (best first)'];
  const rows = study.rows.map((r) => sensitivityCells(r, { p: (p) => pText(p ?? null), rankSep: ' > ' }));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const firsts = Object.entries(study.firstPlaces)
    .sort((a, b) => b[1] - a[1])
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
  return [
    `sensitivity study on ${study.metric} (final, mean over seeds); tau = Kendall's τ-b against the paper's Table 1 ranking at that mask;`,
    "bdpo−dpo tested with Welch's t (two-sided), Holm-adjusted over the settings",
    line(head),
    ...rows.map(line),
    '',
    `${study.rows.length} settings; mean τ ${num(study.meanTau, 2)}; first place: ${firsts || '—'}`,
    `bdpo better than dpo in ${study.bdpoBetter} settings at p < 0.05 (${study.bdpoBetterHolm} after Holm); dpo better in ${study.dpoBetter} (${study.dpoBetterHolm} after Holm)`,
    '',
    sensitivitySentence(study),
  ].join('\n');
}
