/**
 * The sensitivity study (issue 13 item 2): the paper's six losses over the settings the paper left unstated
 * (training steps, β, learning rate, model) at each Table 1 mask. Per setting: our ranking of the losses on the
 * paper's scale (expectedUtilityNormalized), Kendall's τ-b against the paper's Table 1 ranking at that mask, and
 * Welch's test of bDPO against DPO over seeds (Holm-adjusted across settings, since 72 settings are tested at
 * once). Pure and browser-safe: the service stores it with the sweep, the CLI and the views read it.
 */
import { PAPER_LOSSES } from './losses';
import { paperTable1, TABLE1_MASKS } from './paper';
import { kendallTauB, rankByScore } from './kendall';
import { holmAdjust, welchTTest, type WelchResult } from './stats';
import type { SweepRunLike } from './sweep-cells';

/** The settings the study crosses; every other config field keeps its default. */
export const SENSITIVITY_AXES = {
  steps: [300, 1000, 3000],
  beta: [0.1, 1],
  lr: [1e-3, 1e-2],
  model: ['mlp', 'table'],
  mask: TABLE1_MASKS,
} as const;

/** The metric the study ranks by: the paper's scale (synthetic.md § Metrics). */
export const SENSITIVITY_METRIC = 'expectedUtilityNormalized';

/** Settings in the study (axes multiplied), each one holding the six losses × seeds. */
export const SENSITIVITY_SETTINGS = Object.values(SENSITIVITY_AXES).reduce((n, values) => n * values.length, 1);

export function sensitivityRunCount(seeds: number): number {
  return SENSITIVITY_SETTINGS * PAPER_LOSSES.length * seeds;
}

export interface SensitivitySetting {
  steps: number;
  beta: number;
  lr: number;
  model: string;
  mask: number;
}

export interface SensitivityRow {
  setting: SensitivitySetting;
  /** finished runs per loss */
  n: Record<string, number>;
  /** mean final metric per loss over its finished runs */
  mean: Record<string, number>;
  /** losses with a mean, best first */
  ranking: string[];
  /** Kendall's τ-b of our means against the paper's Table 1 values at this mask; null with < 2 losses */
  tau: number | null;
  /** mean(bdpo) − mean(dpo); null when either has no finished run */
  bdpoMinusDpo: number | null;
  /** Welch's test of bdpo against dpo over seeds (two-sided); null with fewer than two seeds each, or no spread */
  welch: WelchResult | null;
  /** welch.p, Holm-adjusted over every setting with a test */
  pHolm: number | null;
  /** which of the two is better at two-sided p < 0.05 (unadjusted), or 'neither' */
  better: 'bdpo' | 'dpo' | 'neither' | 'untested';
}

export interface SensitivityStudy {
  metric: string;
  rows: SensitivityRow[];
  /** mean of the defined τ values; null when none is defined */
  meanTau: number | null;
  /** settings where each loss ranks first */
  firstPlaces: Record<string, number>;
  /** settings where bdpo / dpo is better at p < 0.05, and after Holm's correction */
  bdpoBetter: number;
  dpoBetter: number;
  bdpoBetterHolm: number;
  dpoBetterHolm: number;
}

const settingOf = (c: Record<string, unknown>): SensitivitySetting => ({
  steps: Number(c.steps),
  beta: Number(c.beta),
  lr: Number(c.lr),
  model: String(c.model),
  mask: Number(c.mask),
});

/** The paper's Table 1 ranking at a mask, best first (ties in the paper's order). */
/**
 * One setting's row as a table shows it (CLI text, HTML and Markdown report): model, steps, β, lr, mask, τ,
 * bDPO − DPO, p, Holm's p, the verdict, our ranking best first. Each table picks how p reads and what separates the
 * ranking.
 */
export function sensitivityCells(r: SensitivityRow, o: { p: (p: number | null | undefined) => string; rankSep: string }): string[] {
  const fixed = (x: number | null | undefined, d: number) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const s = r.setting;
  return [
    s.model,
    String(s.steps),
    String(s.beta),
    String(s.lr),
    String(s.mask),
    fixed(r.tau, 2),
    fixed(r.bdpoMinusDpo, 3),
    o.p(r.welch?.p),
    o.p(r.pHolm),
    r.better,
    r.ranking.join(o.rankSep),
  ];
}

export function paperRanking(mask: number): string[] {
  return rankByScore(
    PAPER_LOSSES.filter((l) => paperTable1(mask, l) !== undefined),
    (l) => paperTable1(mask, l)!,
  );
}

/** The study's table from its runs (finished runs only; a setting keeps its place while runs are pending). */
export function summariseSensitivity(runs: readonly SweepRunLike[], metric: string = SENSITIVITY_METRIC): SensitivityStudy {
  const groups = new Map<string, { setting: SensitivitySetting; values: Map<string, number[]> }>();
  for (const r of [...runs].sort((a, b) => a.id - b.id)) {
    const setting = settingOf(r.config);
    const key = JSON.stringify(setting);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { setting, values: new Map() }));
    const v = r.status === 'done' ? r.final?.[metric] : undefined;
    const loss = String(r.config.loss);
    if (!g.values.has(loss)) g.values.set(loss, []);
    if (typeof v === 'number' && Number.isFinite(v)) g.values.get(loss)!.push(v);
  }
  const rows: SensitivityRow[] = [...groups.values()].map(({ setting, values }) => {
    const n: Record<string, number> = {};
    const mean: Record<string, number> = {};
    for (const [loss, xs] of values) {
      n[loss] = xs.length;
      if (xs.length) mean[loss] = xs.reduce((a, b) => a + b, 0) / xs.length;
    }
    const losses = PAPER_LOSSES.filter((l) => l in mean);
    const paired = losses.filter((l) => paperTable1(setting.mask, l) !== undefined);
    const tau = kendallTauB(
      paired.map((l) => mean[l]),
      paired.map((l) => paperTable1(setting.mask, l)!),
    );
    const b = values.get('bdpo') ?? [];
    const d = values.get('dpo') ?? [];
    const welch = welchTTest(b, d);
    return {
      setting,
      n,
      mean,
      ranking: rankByScore(losses, (l) => mean[l]),
      tau,
      bdpoMinusDpo: 'bdpo' in mean && 'dpo' in mean ? mean.bdpo - mean.dpo : null,
      welch,
      pHolm: null,
      better: welch === null ? 'untested' : welch.p < 0.05 ? (welch.t > 0 ? 'bdpo' : 'dpo') : 'neither',
    };
  });
  const holm = holmAdjust(rows.map((r) => r.welch?.p ?? null));
  rows.forEach((r, i) => (r.pHolm = holm[i]));
  const taus = rows.map((r) => r.tau).filter((t): t is number => t !== null);
  const firstPlaces: Record<string, number> = {};
  for (const r of rows) if (r.ranking.length) firstPlaces[r.ranking[0]] = (firstPlaces[r.ranking[0]] ?? 0) + 1;
  const holmBetter = (sign: 1 | -1) => rows.filter((r) => r.welch && r.pHolm !== null && r.pHolm < 0.05 && Math.sign(r.welch.t) === sign).length;
  return {
    metric,
    rows,
    meanTau: taus.length ? taus.reduce((a, c) => a + c, 0) / taus.length : null,
    firstPlaces,
    bdpoBetter: rows.filter((r) => r.better === 'bdpo').length,
    dpoBetter: rows.filter((r) => r.better === 'dpo').length,
    bdpoBetterHolm: holmBetter(1),
    dpoBetterHolm: holmBetter(-1),
  };
}
