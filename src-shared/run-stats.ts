/**
 * Significance across seeds: runs grouped by a config field (or by everything but the seed), one final metric per
 * run, per-group n / mean / std / 95% t-interval, and Welch's t-test between every two groups with Holm's
 * correction over all the pairs. Pure and browser-safe: the service, the CLI and the views share it.
 */
import { z } from 'zod';
import { LabError } from './errors';
import { bootstrapMeanCi, holmAdjust, summarize, welchTTest } from './stats';
import { lossLabel, type CustomLossSpec } from './losses';

export const STATS_LIMITS = { runs: 2000, resamples: 100_000 } as const;

export const StatsInputSchema = z
  .object({
    ids: z
      .array(z.number().int().positive())
      .min(2, 'ids: give at least two run ids')
      .transform((ids) => [...new Set(ids)])
      .refine((ids) => ids.length <= STATS_LIMITS.runs, `ids: at most ${STATS_LIMITS.runs} runs`),
    /** A config field (e.g. "loss"); absent: every config field but the seed. */
    groupBy: z.string().min(1).max(200).optional(),
    /** A final metric every run reports (e.g. "expectedUtility"). */
    metric: z.string().min(1, 'metric: give a final metric name').max(200),
    /** Adds a seeded percentile-bootstrap 95% interval of each group's mean. */
    bootstrap: z
      .object({ resamples: z.number().int().min(100).max(STATS_LIMITS.resamples).default(10_000), seed: z.number().int().min(0).default(0) })
      .strict()
      .optional(),
    /** The level below which a Holm-adjusted p counts as a difference (the UI's mark). */
    alpha: z.number().gt(0).lt(1).default(0.05),
  })
  .strict();
export type StatsInput = z.input<typeof StatsInputSchema>;
export type StatsParsed = z.output<typeof StatsInputSchema>;

export interface StatsGroup {
  /** "dpo" when grouped by a field; "loss=dpo, beta=0.1" (the fields that differ among the runs) by default */
  key: string;
  n: number;
  mean: number;
  std: number | null;
  ci95: [number, number] | null;
  /** the grouping fields' values, so a view can find a group's DPO counterpart */
  fields: Record<string, unknown>;
  runIds: number[];
  bootstrap95?: [number, number] | null;
}

export interface StatsTest {
  a: string;
  b: string;
  /** Welch's t of mean(a) − mean(b); null where undefined (a group of one, or no spread in either) */
  t: number | null;
  df: number | null;
  p: number | null;
  /** Holm-adjusted over every pair that has a p */
  pHolm: number | null;
  /** pHolm < alpha */
  significant: boolean;
}

export interface StatsResult {
  metric: string;
  groupBy: string | null;
  /** the fields whose values key the groups */
  fields: string[];
  alpha: number;
  groups: StatsGroup[];
  tests: StatsTest[];
  /** runs left out, and why (not finished, no such metric, a non-finite value) */
  skipped: { id: number; reason: string }[];
}

export interface StatsRunLike {
  id: number;
  status: string;
  config: Record<string, unknown>;
  final: Record<string, number> | null;
}

const fieldText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The p below alpha after Holm: what a "different?" mark shows. */
export function isDifferent(test: Pick<StatsTest, 'pHolm'>, alpha = 0.05): boolean {
  return test.pHolm !== null && test.pHolm < alpha;
}

/**
 * A custom (formula) loss groups by its own name: `loss` reads as the custom loss's name and its formula field
 * drops out, so two custom losses are two groups and neither merges into a generic "custom".
 */
function withLossLabel(run: StatsRunLike): StatsRunLike {
  const c = run.config;
  if (c.loss !== 'custom' || !c.customLoss) return run;
  const { customLoss, ...rest } = c;
  return { ...run, config: { ...rest, loss: lossLabel({ loss: 'custom', customLoss: customLoss as CustomLossSpec }) } };
}

export function computeRunStats(runs: readonly StatsRunLike[], input: StatsParsed): StatsResult {
  runs = runs.map(withLossLabel);
  const { metric, groupBy } = input;
  const skipped: StatsResult['skipped'] = [];
  const used: { run: StatsRunLike; value: number }[] = [];
  for (const run of [...runs].sort((a, b) => a.id - b.id)) {
    const v = run.final?.[metric];
    if (run.status !== 'done') skipped.push({ id: run.id, reason: `status is ${run.status}` });
    else if (v === undefined) skipped.push({ id: run.id, reason: `no final metric "${metric}"` });
    else if (typeof v !== 'number' || !Number.isFinite(v)) skipped.push({ id: run.id, reason: `"${metric}" is not a finite number` });
    else used.push({ run, value: v });
  }
  if (!used.length) {
    const known = [...new Set(runs.flatMap((r) => Object.keys(r.final ?? {})))].sort();
    throw new LabError('invalid_input', `metric: no finished run has a final "${metric}"${known.length ? ` (they have: ${known.join(', ')})` : ''}`, [
      { path: 'metric', message: `no finished run reports "${metric}"` },
    ]);
  }
  let fields: string[];
  if (groupBy !== undefined) {
    const missing = used.filter(({ run }) => !Object.prototype.hasOwnProperty.call(run.config, groupBy));
    if (missing.length) {
      const known = [...new Set(used.flatMap(({ run }) => Object.keys(run.config)))].sort();
      throw new LabError(
        'invalid_input',
        `groupBy: run ${missing.map((m) => m.run.id).join(', ')} has no config field "${groupBy}" (fields: ${known.join(', ')})`,
        [{ path: 'groupBy', message: `not a config field of run ${missing[0].run.id}` }],
      );
    }
    fields = [groupBy];
  } else {
    // every field but the seed; only those that differ among these runs make the key readable
    const all = [...new Set(used.flatMap(({ run }) => Object.keys(run.config)))].filter((k) => k !== 'seed');
    fields = all.filter((k) => new Set(used.map(({ run }) => JSON.stringify(run.config[k] ?? null))).size > 1);
  }
  const byKey = new Map<string, { fields: Record<string, unknown>; runIds: number[]; values: number[] }>();
  for (const { run, value } of used) {
    const f = Object.fromEntries(fields.map((k) => [k, run.config[k] ?? null]));
    const key = groupBy !== undefined ? fieldText(f[groupBy]) : fields.length ? fields.map((k) => `${k}=${fieldText(f[k])}`).join(', ') : 'all';
    const g = byKey.get(key) ?? { fields: f, runIds: [], values: [] };
    g.runIds.push(run.id);
    g.values.push(value);
    byKey.set(key, g);
  }
  const groups: StatsGroup[] = [];
  const samples: number[][] = [];
  for (const [key, g] of byKey) {
    const s = summarize(g.values);
    const group: StatsGroup = { key, n: s.n, mean: s.mean, std: s.std, ci95: s.ci95, fields: g.fields, runIds: g.runIds };
    if (input.bootstrap) group.bootstrap95 = bootstrapMeanCi(g.values, input.bootstrap);
    groups.push(group);
    samples.push(g.values);
  }
  const raw: Omit<StatsTest, 'pHolm' | 'significant'>[] = [];
  for (let i = 0; i < groups.length; i++)
    for (let j = i + 1; j < groups.length; j++) {
      const w = welchTTest(samples[i], samples[j]);
      raw.push({ a: groups[i].key, b: groups[j].key, t: w?.t ?? null, df: w?.df ?? null, p: w?.p ?? null });
    }
  const adjusted = holmAdjust(raw.map((r) => r.p));
  const tests = raw.map((r, i) => ({ ...r, pHolm: adjusted[i], significant: isDifferent({ pHolm: adjusted[i] }, input.alpha) }));
  return { metric, groupBy: groupBy ?? null, fields, alpha: input.alpha, groups, tests, skipped };
}

/** Exactly the CLI's documented shape: {"groups":[{key,n,mean,std,ci95}], "tests":[{a,b,t,df,p,pHolm}]}. */
export function statsCliJson(r: StatsResult): { groups: object[]; tests: object[] } {
  return {
    groups: r.groups.map((g) => ({
      key: g.key,
      n: g.n,
      mean: g.mean,
      std: g.std,
      ci95: g.ci95,
      ...(g.bootstrap95 !== undefined ? { bootstrap95: g.bootstrap95 } : {}),
    })),
    tests: r.tests.map((t) => ({ a: t.a, b: t.b, t: t.t, df: t.df, p: t.p, pHolm: t.pHolm })),
  };
}

/**
 * The test between a group and its DPO counterpart (the group whose fields are the same except loss = "dpo"),
 * for the "different from DPO?" marks; null for DPO itself, or when there is no such group.
 */
export function testAgainstDpo(r: StatsResult, key: string): StatsTest | null {
  const g = r.groups.find((x) => x.key === key);
  if (!g || !('loss' in g.fields) || g.fields.loss === 'dpo') return null;
  const same = (x: StatsGroup) =>
    x.fields.loss === 'dpo' && Object.keys(g.fields).every((k) => k === 'loss' || JSON.stringify(x.fields[k]) === JSON.stringify(g.fields[k]));
  const dpo = r.groups.find(same);
  if (!dpo) return null;
  return r.tests.find((t) => (t.a === key && t.b === dpo.key) || (t.a === dpo.key && t.b === key)) ?? null;
}
