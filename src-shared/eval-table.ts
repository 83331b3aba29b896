/**
 * The results table (the paper's Tables 2 and 3): one row per evaluation, Help / Harm / S.R. / win rate with their
 * standard errors. Which direction is better per column, sorting, and the best row per column live here.
 */
import type { EvalRecord, Stat } from './eval';

export const RESULT_COLUMNS = [
  { key: 'help', label: 'Help', hint: 'mean reward (higher is better)', dir: 1 },
  { key: 'harm', label: 'Harm', hint: 'mean cost (lower is better)', dir: -1 },
  { key: 'sr', label: 'S.R.', hint: 'safety rate: fraction of responses with cost ≤ 0 (higher is better)', dir: 1 },
  { key: 'winRate', label: 'Win rate', hint: "fraction of prompts whose response out-scores the reference policy's by reward; ties count ½", dir: 1 },
] as const;

/** A benchmark's oracle on the same responses (rule-based truth): shown where a row has it. */
export const ORACLE_COLUMNS = [
  { key: 'oracleHelp', label: 'Oracle Help', hint: "the benchmark oracle's helpfulness, mean (higher is better)", dir: 1 },
  { key: 'oracleHarm', label: 'Oracle Harm', hint: "the benchmark oracle's harmfulness, mean (lower is better)", dir: -1 },
  { key: 'oracleSr', label: 'Oracle S.R.', hint: 'fraction of responses the oracle calls safe, harm ≤ 0 (higher is better)', dir: 1 },
] as const;

const ALL_COLUMNS = [...RESULT_COLUMNS, ...ORACLE_COLUMNS] as const;
export type ResultKey = (typeof ALL_COLUMNS)[number]['key'];
export type ResultColumn = (typeof ALL_COLUMNS)[number];

/** The columns to show for these rows: the oracle's only where some row has oracle numbers. */
export function resultColumns(rows: readonly EvalRecord[]): readonly ResultColumn[] {
  return rows.some((e) => e.summary?.oracleHelp || e.summary?.oracleHarm || e.summary?.oracleSr) ? ALL_COLUMNS : RESULT_COLUMNS;
}

/** Rates are shown as percentages. */
export const isRateColumn = (k: ResultKey): boolean => k === 'sr' || k === 'winRate' || k === 'oracleSr';

export const statOf = (e: EvalRecord, k: ResultKey): Stat | null => e.summary?.[k] ?? null;

/** Sorted by a column (missing values last whatever the direction), or by name. */
export function sortResults(rows: readonly EvalRecord[], key: ResultKey | 'name' | '', dir: 1 | -1): EvalRecord[] {
  if (!key) return [...rows];
  return [...rows].sort((a, b) => {
    if (key === 'name') return a.name.localeCompare(b.name) * dir;
    const x = statOf(a, key)?.mean;
    const y = statOf(b, key)?.mean;
    if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
    return (x - y) * dir;
  });
}

/** The id of the best finished evaluation per column (null when none has a value). */
export function bestPerColumn(rows: readonly EvalRecord[]): Record<ResultKey, number | null> {
  const out = {} as Record<ResultKey, number | null>;
  for (const c of ALL_COLUMNS) {
    let best: { id: number; v: number } | null = null;
    for (const e of rows) {
      const v = statOf(e, c.key)?.mean;
      if (v === undefined || e.status !== 'done') continue;
      if (!best || v * c.dir > best.v * c.dir) best = { id: e.id, v };
    }
    out[c.key] = best?.id ?? null;
  }
  return out;
}

/** "0.512 ± 0.031" (the paper's style), a percentage for rates. */
export function statText(s: Stat | null, percent = false): string {
  if (!s) return '—';
  const f = (v: number) => (percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(3).replace('-', '−'));
  return s.se === null ? f(s.mean) : `${f(s.mean)} ± ${f(s.se)}`;
}
