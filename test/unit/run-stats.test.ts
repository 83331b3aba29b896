/**
 * Significance across seeds on real runs in a real SQLite file: grouping by a config field and by everything but
 * the seed, Welch + Holm against values worked independently (Welch's textbook example 1 and Holm by hand), the
 * service's refusals, and `dpo-lab stats` printing exactly its documented JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabStore } from '../../src-main/store';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { testAgainstDpo, type StatsResult } from '@shared/run-stats';
import { runCli } from './cli-main';
import { tempDir } from './tmp';

// Wikipedia, "Welch's t-test", example 1 (A1, A2) and example 2's second sample (B2)
const A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
const A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
const B2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8];

const tmp = tempDir();
const db = tmp.file('stats.db');
const ids: Record<string, number[]> = { dpo: [], bdpo: [], ipo: [] };
let failedId = 0;
let otherBeta: number[] = [];

beforeAll(() => {
  const store = LabStore.open(db);
  const add = (loss: string, values: number[], beta = 0.1) =>
    values.map((v, seed) => {
      const id = store.runs.create({ name: `${loss} s${seed}`, kind: 'synthetic', config: { loss, beta, lr: 0.01, seed }, seed });
      store.runs.finish(id, 'done', { final: { expectedUtility: v, pBest: 0.5 } });
      return id;
    });
  ids.dpo = add('dpo', A1);
  ids.bdpo = add('bdpo', A2);
  ids.ipo = add('ipo', B2);
  failedId = store.runs.create({ name: 'broken', kind: 'synthetic', config: { loss: 'dpo', beta: 0.1, lr: 0.01, seed: 99 } });
  store.runs.finish(failedId, 'failed', { error: 'nan' });
  otherBeta = [...add('dpo', [1, 2, 3], 0.5), ...add('bdpo', [7, 8, 9.5], 0.5)];
  store.close();
});
afterAll(() => tmp.cleanup());

// independent: scipy.stats.ttest_ind(equal_var=False); Holm by hand from the three p-values
const P = { dpoBdpo: 0.021378001462866992, dpoIpo: 0.10009538561896346, bdpoIpo: 0.13594574231964046 };
const HOLM = { dpoBdpo: 3 * P.dpoBdpo, dpoIpo: 2 * P.dpoIpo, bdpoIpo: 2 * P.dpoIpo };

describe('stats:compute on stored runs', () => {
  const lab = createLab({ dbFile: db, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
  afterAll(() => lab.close());
  const stats = async (input: object): Promise<StatsResult> => {
    const res = await lab.service.invoke('stats:compute', input);
    if (!res.ok) throw new Error(res.error.message);
    return res.value as StatsResult;
  };

  it('groups by loss; Welch and Holm match the worked values; raw p < 0.05 is not a difference after Holm', async () => {
    const r = await stats({ ids: [...ids.dpo, ...ids.bdpo, ...ids.ipo, failedId], groupBy: 'loss', metric: 'expectedUtility' });
    expect(r.groups.map((g) => [g.key, g.n])).toEqual([
      ['dpo', 15],
      ['bdpo', 15],
      ['ipo', 20],
    ]);
    expect(r.groups[0].mean).toBeCloseTo(20.82, 10);
    expect(r.groups[0].ci95![0]).toBeCloseTo(19.26670165, 6);
    expect(r.groups[0].ci95![1]).toBeCloseTo(22.37329835, 6);
    expect(r.skipped).toEqual([{ id: failedId, reason: 'status is failed' }]);
    const [ab, ai, bi] = r.tests;
    expect([ab.a, ab.b, ai.a, ai.b, bi.a, bi.b]).toEqual(['dpo', 'bdpo', 'dpo', 'ipo', 'bdpo', 'ipo']);
    expect(ab.t).toBeCloseTo(-2.455356398, 8);
    expect(ab.df).toBeCloseTo(24.98852929, 6);
    expect(ab.p).toBeCloseTo(P.dpoBdpo, 9);
    expect(ai.p).toBeCloseTo(P.dpoIpo, 9);
    expect(bi.p).toBeCloseTo(P.bdpoIpo, 9);
    expect(ab.pHolm).toBeCloseTo(HOLM.dpoBdpo, 9);
    expect(ai.pHolm).toBeCloseTo(HOLM.dpoIpo, 9);
    expect(bi.pHolm).toBeCloseTo(HOLM.bdpoIpo, 9);
    expect(ab.p!).toBeLessThan(0.05);
    expect(ab.significant).toBe(false);
    expect(testAgainstDpo(r, 'bdpo')).toBe(ab);
    expect(testAgainstDpo(r, 'dpo')).toBeNull();
  });

  it('groups by every field but the seed by default, and finds each group its DPO counterpart', async () => {
    const r = await stats({ ids: [...ids.dpo, ...ids.bdpo, ...otherBeta], metric: 'expectedUtility' });
    expect(r.fields).toEqual(['loss', 'beta']);
    expect(r.groups.map((g) => g.key)).toEqual(['loss=dpo, beta=0.1', 'loss=bdpo, beta=0.1', 'loss=dpo, beta=0.5', 'loss=bdpo, beta=0.5']);
    expect(r.tests).toHaveLength(6);
    // 1,2,3 (mean 2, s² 1) against 7,8,9.5 (mean 49/6, s² 19/12): t = (2 − 49/6) / √((1 + 19/12) / 3), by hand
    const t = testAgainstDpo(r, 'loss=bdpo, beta=0.5')!;
    expect([t.a, t.b]).toEqual(['loss=dpo, beta=0.5', 'loss=bdpo, beta=0.5']);
    expect(t.t).toBeCloseTo(-37 / 6 / Math.sqrt((1 + 19 / 12) / 3), 10);
    expect(t.significant).toBe(t.pHolm! < 0.05);
    // one group when only the seed differs
    const one = await stats({ ids: ids.dpo, metric: 'expectedUtility' });
    expect(one.groups.map((g) => g.key)).toEqual(['all']);
    expect(one.tests).toEqual([]);
  });

  it('bootstrap intervals are opt-in and repeat for the same seed', async () => {
    const input = { ids: [...ids.dpo, ...ids.bdpo], groupBy: 'loss', metric: 'expectedUtility', bootstrap: { resamples: 1000, seed: 3 } };
    const a = await stats(input);
    const b = await stats(input);
    expect(a.groups[0].bootstrap95).toEqual(b.groups[0].bootstrap95);
    expect(a.groups[0].bootstrap95![0]).toBeLessThan(a.groups[0].mean);
    expect((await stats({ ...input, bootstrap: undefined })).groups[0].bootstrap95).toBeUndefined();
  });

  it('refuses unknown runs, fields and metrics by name', async () => {
    const missing = await lab.service.invoke('stats:compute', { ids: [ids.dpo[0], 9999], metric: 'expectedUtility' });
    expect(missing.ok || missing.error).toMatchObject({ code: 'not_found', message: 'run 9999 does not exist' });
    const field = await lab.service.invoke('stats:compute', { ids: ids.dpo, groupBy: 'temperature', metric: 'expectedUtility' });
    expect(field.ok || field.error.message).toMatch(/groupBy: run \d+(, \d+)* has no config field "temperature" \(fields: beta, loss, lr, seed\)/);
    const metric = await lab.service.invoke('stats:compute', { ids: ids.dpo, metric: 'winRate' });
    expect(metric.ok || metric.error.message).toBe('metric: no finished run has a final "winRate" (they have: expectedUtility, pBest)');
    const one = await lab.service.invoke('stats:compute', { ids: [1], metric: 'x' });
    expect(one.ok || one.error.message).toMatch(/ids: give at least two run ids/);
  });
});

describe('dpo-lab stats', () => {
  it('--json prints exactly {"groups":[{key,n,mean,std,ci95}],"tests":[{a,b,t,df,p,pHolm}]}', async () => {
    const r = await runCli(db, [
      'stats',
      '--runs',
      [...ids.dpo, ...ids.bdpo, ...ids.ipo].join(','),
      '--group-by',
      'loss',
      '--metric',
      'expectedUtility',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { groups: Record<string, unknown>[]; tests: Record<string, unknown>[] };
    expect(Object.keys(out)).toEqual(['groups', 'tests']);
    for (const g of out.groups) expect(Object.keys(g)).toEqual(['key', 'n', 'mean', 'std', 'ci95']);
    for (const t of out.tests) expect(Object.keys(t)).toEqual(['a', 'b', 't', 'df', 'p', 'pHolm']);
    expect(out.groups[1]).toMatchObject({ key: 'bdpo', n: 15 });
    expect(out.tests[0].pHolm as number).toBeCloseTo(HOLM.dpoBdpo, 9);
  });

  it('prints a readable table, notes runs left out, and takes space-separated ids', async () => {
    const r = await runCli(db, ['stats', '--runs', String(ids.dpo[0]), String(ids.dpo[1]), String(failedId), '--metric', 'expectedUtility']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: run ${failedId} left out: status is failed`);
    expect(r.stdout).toMatch(/^expectedUtility by all/);
    expect(r.stdout).toMatch(/all: n=2 mean=24\.2500/);
  });

  it('--bootstrap N adds a seeded bootstrap95 per group; a bad count names the field', async () => {
    const args = ['stats', '--runs', [...ids.dpo, ...ids.bdpo].join(','), '--group-by', 'loss', '--metric', 'expectedUtility', '--bootstrap', '500', '--json'];
    const a = await runCli(db, args);
    expect(a.code, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout) as { groups: { bootstrap95: [number, number] }[] };
    expect(out.groups[0].bootstrap95).toHaveLength(2);
    expect(JSON.parse((await runCli(db, args)).stdout)).toEqual(out);
    const bad = await runCli(db, [...args.slice(0, -3), '--bootstrap', '5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/bootstrap\.resamples/);
  });

  it('a bad id or metric is a usage error with the reason', async () => {
    const bad = await runCli(db, ['stats', '--runs', '1,x', '--metric', 'expectedUtility']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--runs: expected run ids (1,2,3 or 1 2 3), got "x"');
    const metric = await runCli(db, ['stats', '--runs', ids.dpo.join(','), '--metric', 'nope', '--json']);
    expect(metric.code).not.toBe(0);
    expect(JSON.parse(metric.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });
});
