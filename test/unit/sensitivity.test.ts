/**
 * The sensitivity study (issue 13 item 2): Kendall's τ-b on textbook values, the preset's expansion, and its
 * per-setting summary on a small set of fake runs in a real SQLite store.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PAPER_LOSSES } from '@shared/losses';
import { PAPER_TABLE1 } from '@shared/paper';
import { kendallTauB, rankByScore } from '@shared/kendall';
import { paperRanking, SENSITIVITY_AXES, SENSITIVITY_SETTINGS, sensitivityRunCount, summariseSensitivity } from '@shared/sensitivity';
import { sensitivitySentence, tauWords } from '@shared/sensitivity-sentence';
import { SweepStartSchema, sweepRunCount } from '@shared/sweeps';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { LabStore } from '../../src-main/store';
import { finishSweep, summariseSweep, sweepConfigs } from '../../src-main/api/sweeps';
import { planBatches, sensitivityConfigs } from '../../src-main/engine/synthetic/sweep';
import { sensitivityText } from '../../src-main/cli/sensitivity-text';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("Kendall's τ-b", () => {
  it('gives the textbook values (as scipy.stats.kendalltau)', () => {
    // 10 pairs, 2 discordant (1↔2, 3↔4): (8 − 2)/10
    expect(kendallTauB([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.6, 14);
    // ties: n_c = 4, n_d = 0, one pair tied in x, one in y: 4/√(5·5)
    expect(kendallTauB([1, 2, 2, 3], [1, 2, 3, 3])).toBeCloseTo(0.8, 14);
    expect(kendallTauB([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(kendallTauB([1, 2, 3], [10, 20, 30])).toBe(1);
    // the paper's mask-0 row (bdpo and nbdpo2-symm tied at 4.45) against the spec's normalised numbers:
    // scipy.stats.kendalltau gives 0.2760262237369417
    const ours = [6.46, 5.82, 5.87, 5.46, 5.51, 4.99];
    expect(kendallTauB(ours, [4.28, 4.56, 5.4, 3.79, 4.45, 4.45])).toBeCloseTo(0.2760262237369417, 12);
    expect(kendallTauB([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(kendallTauB([1], [1])).toBeNull();
    expect(() => kendallTauB([1, 2], [1])).toThrow(/2 values against 1/);
  });

  it('ranks best first, keeping the given order on ties', () => {
    expect(rankByScore(['a', 'b', 'c'], (n) => ({ a: 1, b: 3, c: 1 })[n]!)).toEqual(['b', 'a', 'c']);
    expect(paperRanking(0)).toEqual(['nbdpo-symm', 'nbdpo-asymm', 'nbdpo2-symm', 'bdpo', 'dpo', 'nbdpo2-asymm']);
  });
});

describe('the sensitivity preset', () => {
  it('expands to steps × β × lr × model × mask × six losses × seeds, one program per model and steps', () => {
    expect(SENSITIVITY_SETTINGS).toBe(3 * 2 * 2 * 2 * 3);
    expect(sensitivityRunCount(3)).toBe(72 * 6 * 3);
    const input = SweepStartSchema.parse({ preset: 'sensitivity', seeds: 2 });
    expect(sweepRunCount(input)).toBe(864);
    const cs = sweepConfigs(input);
    expect(cs).toHaveLength(864);
    expect(cs).toEqual(sensitivityConfigs({ seeds: 2 }));
    const distinct = (f: (c: (typeof cs)[number]) => unknown) => [...new Set(cs.map(f))];
    expect(distinct((c) => c.steps)).toEqual([...SENSITIVITY_AXES.steps]);
    expect(distinct((c) => c.beta).sort()).toEqual([0.1, 1]);
    expect(distinct((c) => c.lr).sort()).toEqual([1e-3, 1e-2]);
    expect(distinct((c) => c.model).sort()).toEqual(['mlp', 'table']);
    expect(distinct((c) => c.mask)).toEqual([0, 0.2, 0.4]);
    expect(distinct((c) => c.loss)).toEqual([...PAPER_LOSSES]);
    expect(distinct((c) => c.seed)).toEqual([0, 1]);
    expect(new Set(cs.map((c) => JSON.stringify([c.steps, c.beta, c.lr, c.model, c.mask, c.loss, c.seed]))).size).toBe(864);
    // ten evaluations and twenty log rows per run, whatever its length
    for (const c of cs) expect([c.steps / c.evalEvery, c.steps / c.logEvery]).toEqual([10, 20]);
    expect(planBatches(cs)).toHaveLength(6);
    // fields the study does not vary keep their defaults, or the request's base
    const d = SyntheticConfigSchema.parse({});
    expect(cs.every((c) => c.K === d.K && c.refSteps === d.refSteps && c.alpha === d.alpha)).toBe(true);
    expect(sweepConfigs(SweepStartSchema.parse({ preset: 'sensitivity', seeds: 1, base: { K: 8 } })).every((c) => c.K === 8)).toBe(true);
  });

  it('refuses a steps override (steps is one of its axes)', () => {
    const r = SweepStartSchema.safeParse({ preset: 'sensitivity', seeds: 1, steps: 10 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(['steps']);
  });
});

describe('the sensitivity summary, from runs in a SQLite store', () => {
  const store = LabStore.open(tmp.file('lab.db'));
  afterAll(() => store.close());

  /**
   * Two settings at mask 0.2 (the paper's row has no ties), three seeds:
   * A (mlp, steps 300): ours = the paper's values + a seed offset → τ = 1; bdpo 4.40 ± 0.1 vs dpo 3.98 ± 0.1.
   * B (table, steps 3000): ours = 10 − paper → τ = −1; dpo (6.02) beats bdpo (5.60).
   */
  function makeSweep(): number {
    const paper = PAPER_TABLE1['0.2'] as Record<string, number>;
    const sweepId = store.sweeps.create('fake study', 'sensitivity', { preset: 'sensitivity', seeds: 3 });
    const runs: { config: ReturnType<typeof SyntheticConfigSchema.parse>; value: number }[] = [];
    for (const [model, steps, f] of [
      ['mlp', 300, (v: number) => v],
      ['table', 3000, (v: number) => 10 - v],
    ] as const)
      for (let seed = 0; seed < 3; seed++)
        for (const loss of PAPER_LOSSES) {
          const config = SyntheticConfigSchema.parse({ model, steps, beta: 0.1, lr: 1e-3, mask: 0.2, seed, loss });
          runs.push({ config, value: f(paper[loss]) + (seed - 1) * 0.1 });
        }
    const ids = store.runs.createMany(
      runs.map((r) => ({ name: String(r.config.loss), kind: 'synthetic' as const, config: r.config, seed: r.config.seed, sweepId })),
    );
    ids.forEach((id, i) => store.runs.finish(id, 'done', { final: { expectedUtility: 99, expectedUtilityNormalized: runs[i].value } }));
    return sweepId;
  }

  it('gives each setting our ranking, τ against the paper, and Welch bdpo vs dpo; the stored summary holds it', () => {
    const sweepId = makeSweep();
    const study = summariseSweep(store, sweepId, 'sensitivity').sensitivity!;
    expect(study.metric).toBe('expectedUtilityNormalized');
    expect(study.rows).toHaveLength(2);
    const a = study.rows.find((r) => r.setting.model === 'mlp')!;
    const b = study.rows.find((r) => r.setting.model === 'table')!;
    expect(a.setting).toEqual({ steps: 300, beta: 0.1, lr: 1e-3, model: 'mlp', mask: 0.2 });
    expect(a.ranking).toEqual(paperRanking(0.2));
    expect(b.ranking).toEqual([...paperRanking(0.2)].reverse());
    expect(a.tau).toBeCloseTo(1, 14);
    expect(b.tau).toBeCloseTo(-1, 14);
    expect(a.n).toEqual(Object.fromEntries(PAPER_LOSSES.map((l) => [l, 3])));
    expect(a.mean.bdpo).toBeCloseTo(4.4, 12);
    expect(a.bdpoMinusDpo).toBeCloseTo(0.42, 12);
    // equal spreads (sd 0.1, n 3): t = 0.42/√(2·0.01/3), df = 4
    expect(a.welch!.t).toBeCloseTo(0.42 / Math.sqrt(0.02 / 3), 8);
    expect(a.welch!.df).toBeCloseTo(4, 8);
    expect(a.better).toBe('bdpo');
    expect(b.better).toBe('dpo');
    expect(b.welch!.t).toBeCloseTo(-a.welch!.t, 8);
    // Holm over two tests with equal p: both multiplied by 2
    expect(a.pHolm).toBeCloseTo(2 * a.welch!.p, 12);
    expect([study.meanTau, study.bdpoBetter, study.dpoBetter]).toEqual([0, 1, 1]);
    expect(study.firstPlaces).toEqual({ 'nbdpo-symm': 1, dpo: 1 });
    // the raw metric (99 everywhere) is not what the study ranks by
    expect(a.mean.dpo).not.toBe(99);

    finishSweep(store, sweepId);
    const stored = store.sweeps.get(sweepId)!;
    expect(stored.status).toBe('done');
    expect((stored.summary as { sensitivity: { rows: unknown[] } }).sensitivity.rows).toHaveLength(2);

    const text = sensitivityText(study);
    expect(text).toMatch(/mlp\s+300\s+0\.1\s+0\.001\s+0\.2\s+1\.00\s+0\.420/);
    expect(text).toContain('nbdpo-symm > nbdpo-asymm > bdpo > nbdpo2-symm > nbdpo2-asymm > dpo');
    expect(text).toContain('bdpo better than dpo in 1 settings at p < 0.05');
    expect(text.trimEnd().endsWith(sensitivitySentence(study))).toBe(true);
  });

  it('leaves Welch untested with one seed, and counts only finished runs', () => {
    const sweepId = store.sweeps.create('one seed', 'sensitivity', {});
    const mk = (loss: string) => SyntheticConfigSchema.parse({ loss, mask: 0, seed: 0 });
    const ids = store.runs.createMany(['dpo', 'bdpo', 'ipo'].map((loss) => ({ name: loss, kind: 'synthetic' as const, config: mk(loss), seed: 0, sweepId })));
    store.runs.finish(ids[0], 'done', { final: { expectedUtilityNormalized: 5 } });
    store.runs.finish(ids[1], 'failed', { error: 'boom' });
    store.runs.finish(ids[2], 'done', { final: { expectedUtilityNormalized: 7 } });
    const [row] = summariseSweep(store, sweepId, 'sensitivity').sensitivity!.rows;
    expect(row.n).toEqual({ dpo: 1, bdpo: 0, ipo: 1 });
    expect(row.ranking).toEqual(['dpo']); // ipo is not one of the paper's losses
    expect([row.welch, row.pHolm, row.better, row.bdpoMinusDpo, row.tau]).toEqual([null, null, 'untested', null, null]);
  });
});

describe('the summary sentence', () => {
  /** A study from plain rows: per setting, dpo and bdpo values over three seeds (the other losses fixed). */
  function study(settings: { bdpo: number[]; dpo: number[] }[]) {
    let id = 0;
    const runs = settings.flatMap((s, k) =>
      [0, 1, 2].flatMap((seed) =>
        PAPER_LOSSES.map((loss) => ({
          id: ++id,
          status: 'done',
          config: { loss, seed, steps: 300 + k, beta: 1, lr: 0.01, model: 'mlp', mask: 0 } as Record<string, unknown>,
          final: { expectedUtilityNormalized: loss === 'bdpo' ? s.bdpo[seed] : loss === 'dpo' ? s.dpo[seed] : 1 + PAPER_LOSSES.indexOf(loss) / 10 },
        })),
      ),
    );
    return summariseSensitivity(runs);
  }
  const high = [7, 7.1, 7.2];
  const low = [3, 3.1, 3.2];

  it('says DPO is ahead when the data say so', () => {
    const s = sensitivitySentence(study([{ dpo: high, bdpo: low }]));
    expect(s).toMatch(/^dpo ranks first in 1 of 1 setting\. /);
    expect(s).toContain('bDPO beats DPO in 0 of 1 setting and DPO beats bDPO in 1 (p < 0.05); after Holm');
    expect(s).toContain("contradicts the paper's claim");
  });

  it('changes when bDPO wins', () => {
    const s = sensitivitySentence(study([{ dpo: low, bdpo: high }]));
    expect(s).toMatch(/^bdpo ranks first in 1 of 1 setting/);
    expect(s).toContain('bDPO beats DPO in 1 of 1 setting and DPO beats bDPO in 0');
    expect(s).toContain("supports the paper's claim");
    expect(s).not.toContain('contradicts');
  });

  it('says so when the winner depends on the setting, or nothing separates them', () => {
    expect(
      sensitivitySentence(
        study([
          { dpo: low, bdpo: high },
          { dpo: high, bdpo: low },
        ]),
      ),
    ).toContain('depends on the setting');
    expect(sensitivitySentence(study([{ dpo: [5, 6, 7], bdpo: [5.1, 6.1, 6.9] }]))).toContain('No setting separates the two');
    expect(sensitivitySentence(summariseSensitivity([]))).toBe('No run of the study has finished yet.');
  });

  it('puts the agreement with the paper in words by the size of τ', () => {
    expect([0.8, 0.5, 0.2, 0, -0.5].map(tauWords)).toEqual(['closely', 'moderately', 'weakly', 'not at all', 'in reverse']);
    expect(sensitivitySentence(study([{ dpo: high, bdpo: low }]))).toMatch(
      /agree with the paper's (closely|moderately|weakly|not at all|in reverse) \(mean Kendall's τ -?\d\.\d\d/,
    );
  });
});
