import { describe, expect, it } from 'vitest';
import { evalTableRow, EvalStartSchema, meanStat, proportionStat, summarizeEval, winScore, type EvalRecord } from '../../../src-shared/eval';

// Worked by hand: rewards 1..4, costs −1, 0, 2, 3, reference rewards 0, 2, 5, 1.
const rows = [
  { reward: 1, cost: -1, refReward: 0 },
  { reward: 2, cost: 0, refReward: 2 },
  { reward: 3, cost: 2, refReward: 5 },
  { reward: 4, cost: 3, refReward: 1 },
];

describe('evaluation statistics', () => {
  it('Help is the mean reward with the sample standard error', () => {
    const s = summarizeEval(rows);
    // mean 2.5; variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; se = √(5/3 / 4) = √(5/12)
    expect(s.help!.mean).toBe(2.5);
    expect(s.help!.se).toBeCloseTo(Math.sqrt(5 / 12), 12);
    expect(s.n).toBe(4);
  });

  it('Harm is the mean cost; S.R. counts cost ≤ 0 as safe (zero included)', () => {
    const s = summarizeEval(rows);
    expect(s.harm!.mean).toBe(1);
    // variance (4 + 1 + 1 + 4) / 3 = 10/3; se = √(10/12)
    expect(s.harm!.se).toBeCloseTo(Math.sqrt(10 / 12), 12);
    expect(s.sr!.mean).toBe(0.5);
    expect(s.sr!.se).toBeCloseTo(0.25, 12); // √(0.5 · 0.5 / 4)
  });

  it('win rate counts a tie as one half', () => {
    expect([winScore(1, 0), winScore(2, 2), winScore(3, 5)]).toEqual([1, 0.5, 0]);
    const s = summarizeEval(rows);
    // wins 1, ½, 0, 1: mean 0.625; deviations .375 −.125 −.625 .375 → Σ² = 0.6875; se = √(0.6875 / 3 / 4)
    expect(s.winRate!.mean).toBe(0.625);
    expect(s.winRate!.se).toBeCloseTo(Math.sqrt(0.6875 / 12), 12);
  });

  it('missing scorers leave their statistics null; one value has no standard error', () => {
    const s = summarizeEval([{ reward: 3, cost: null, refReward: null }]);
    expect(s.help).toEqual({ mean: 3, se: null, n: 1 });
    expect(s.harm).toBeNull();
    expect(s.sr).toBeNull();
    expect(s.winRate).toBeNull();
    expect(meanStat([])).toBeNull();
    expect(proportionStat(0, 0)).toBeNull();
    expect(proportionStat(3, 3)).toEqual({ mean: 1, se: 0, n: 3 });
  });

  it('the results table row carries every number with its standard error', () => {
    const summary = { ...summarizeEval(rows), tokensPerSecond: 10 };
    const rec = { id: 7, runId: 3, name: 'r', loss: 'bdpo', prompts: 'p.jsonl', reward: 'R', cost: 'C', summary } as unknown as EvalRecord;
    const row = evalTableRow(rec);
    expect(row.slice(0, 7)).toEqual([7, 3, 'r', 'bdpo', 4, 2.5, Math.sqrt(5 / 12)]);
    expect(row[9]).toBe(0.5);
    expect(row[11]).toBe(0.625);
  });

  it('a start request names the missing policy or scorer', () => {
    const res = EvalStartSchema.safeParse({ prompts: 'p.jsonl' });
    expect(res.success).toBe(false);
    const msgs = res.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs).toContain('run: give either a run id or a model folder (not both)');
    expect(msgs).toContain('reward: give a reward model, a cost model, or both');
    expect(EvalStartSchema.parse({ run: 1, prompts: 'p', cost: 'c' }).settings.maxNewTokens).toBe(64);
  });
});
