/**
 * Issue 11 item 1: run configs take `loss: 'custom'` with `customLoss: { name, formula }`; the formula is parsed on
 * validation and a bad one is refused at its character; built-in configs read exactly as before.
 */
import { describe, expect, it } from 'vitest';
import { SyntheticConfigSchema, SyntheticConfigFields, defaultSyntheticConfig } from '@shared/synthetic-config';
import { LlmConfigSchema } from '@shared/llm-config';
import { commandInputs } from '@shared/contract';
import { BUILTIN_FORMULAS } from '@shared/formula';
import { LOSS_NAMES, lossLabel, withLoss } from '@shared/losses';
import { formatZodIssues } from '@shared/errors';
import { expandGrid } from '../../src-main/engine/synthetic/sweep';
import { schemaFields } from '@shared/schema-fields';
import { computeRunStats, StatsInputSchema } from '@shared/run-stats';

const reweighted = { name: 'reweighted dpo', formula: 'w = sg(sigmoid(logp_l - logp_w))\n-2 * w * logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))' };
const issuesOf = (r: { success: boolean; error?: Parameters<typeof formatZodIssues>[0] }) => (r.success ? '' : formatZodIssues(r.error!));

describe('custom losses in run configs', () => {
  it('leaves built-in configs as they were: no customLoss key, every built-in accepted', () => {
    expect(Object.keys(defaultSyntheticConfig())).not.toContain('customLoss');
    for (const loss of LOSS_NAMES) {
      const c = SyntheticConfigSchema.parse({ loss, seed: 3 });
      expect(c.loss).toBe(loss);
      expect('customLoss' in c).toBe(false);
      expect(lossLabel(c)).toBe(loss);
    }
    const llm = LlmConfigSchema.parse({ model: '/m', data: '/d.jsonl', loss: 'ipo' });
    expect('customLoss' in llm).toBe(false);
  });

  it('accepts a custom loss with its formula in both configs, and labels it by name', () => {
    const c = SyntheticConfigSchema.parse({ loss: 'custom', customLoss: reweighted });
    expect(c.customLoss).toEqual(reweighted);
    expect(lossLabel(c)).toBe('reweighted dpo');
    const l = LlmConfigSchema.parse({ model: '/m', data: '/d.jsonl', loss: 'custom', customLoss: reweighted });
    expect(l.customLoss).toEqual(reweighted);
    // every built-in's own formula is a valid custom loss
    for (const [name, formula] of Object.entries(BUILTIN_FORMULAS))
      expect(SyntheticConfigSchema.safeParse({ loss: 'custom', customLoss: { name: `my ${name}`, formula } }).success).toBe(true);
  });

  it('refuses a bad formula at its character, in both configs', () => {
    const bad = { name: 'oops', formula: '-logsigmoid(beta * (logp_w - ref_x))' };
    const r = SyntheticConfigSchema.safeParse({ loss: 'custom', customLoss: bad });
    expect(issuesOf(r)).toMatch(/^customLoss\.formula: unknown name ref_x; did you mean ref_w\? \(at character 30\)$/);
    const l = LlmConfigSchema.safeParse({ model: '/m', data: '/d.jsonl', loss: 'custom', customLoss: bad });
    expect(issuesOf(l)).toMatch(/customLoss\.formula: .*\(at character 30\)/);
    const constant = SyntheticConfigSchema.safeParse({ loss: 'custom', customLoss: { name: 'flat', formula: 'beta * ref_w' } });
    expect(issuesOf(constant)).toMatch(/customLoss\.formula: .*logp_w.*logp_l/);
    const arity = SyntheticConfigSchema.safeParse({ loss: 'custom', customLoss: { name: 'x', formula: 'clip(logp_w, 1)' } });
    expect(issuesOf(arity)).toMatch(/customLoss\.formula: .*\(at character 1\)/);
  });

  it("refuses a custom name that is a built-in's, custom without a formula, and a formula beside a built-in", () => {
    expect(issuesOf(SyntheticConfigSchema.safeParse({ loss: 'custom', customLoss: { name: 'DPO', formula: BUILTIN_FORMULAS.dpo } }))).toMatch(
      /customLoss\.name: is the name of a built-in loss/,
    );
    expect(issuesOf(SyntheticConfigSchema.safeParse({ loss: 'custom' }))).toMatch(/customLoss: loss 'custom' needs customLoss/);
    expect(issuesOf(SyntheticConfigSchema.safeParse({ loss: 'dpo', customLoss: reweighted }))).toMatch(/customLoss: is only read when loss is 'custom'/);
    expect(issuesOf(LlmConfigSchema.safeParse({ model: '/m', data: '/d.jsonl', loss: 'custom' }))).toMatch(/customLoss: loss 'custom' needs/);
    expect(issuesOf(SyntheticConfigSchema.safeParse({ loss: 'dpo2' }))).toMatch(/unknown loss "dpo2"; valid losses: dpo, .*hinge, custom/);
  });

  it("runs a custom loss beside built-ins: losses ['dpo', 'custom'] keeps the formula on the custom run only", () => {
    const start = commandInputs['runs:start'].safeParse({ kind: 'synthetic', config: { loss: 'custom', customLoss: reweighted }, losses: ['dpo', 'custom'] });
    expect(start.success).toBe(true);
    const config = SyntheticConfigSchema.parse({ loss: 'custom', customLoss: reweighted });
    expect(withLoss(config, 'dpo')).toEqual({ ...defaultSyntheticConfig(), loss: 'dpo' });
    expect(withLoss(config, 'custom')).toEqual(config);
    const missing = commandInputs['runs:start'].safeParse({ kind: 'synthetic', config: {}, losses: ['dpo', 'custom'] });
    expect(issuesOf(missing as never)).toMatch(/losses: 'custom' needs config.loss 'custom'/);
    // a sweep grid over loss: the custom runs carry the formula, the built-in ones none
    const grid = expandGrid({ loss: 'custom', customLoss: reweighted }, { loss: ['dpo', 'custom'] });
    expect(grid.map((c) => [c.loss, c.customLoss?.name])).toEqual([
      ['dpo', undefined],
      ['custom', 'reweighted dpo'],
    ]);
    expect(SyntheticConfigFields.partial().safeParse({ customLoss: reweighted }).success).toBe(true);
  });

  it('keeps customLoss out of the flat fields (launcher inputs and CLI flags)', () => {
    expect(schemaFields(SyntheticConfigSchema).map((f) => f.key)).not.toContain('customLoss');
    expect(schemaFields(LlmConfigSchema).map((f) => f.key)).not.toContain('customLoss');
    expect(schemaFields(SyntheticConfigSchema).find((f) => f.key === 'loss')?.options).toContain('custom');
  });

  it('stats group custom losses by their own names, by loss and by everything but the seed', () => {
    const other = { name: 'other', formula: BUILTIN_FORMULAS.ipo };
    const runs = [
      ...[0, 1].map((seed) => ({ config: SyntheticConfigSchema.parse({ seed }), v: 1 + seed })),
      ...[0, 1].map((seed) => ({ config: SyntheticConfigSchema.parse({ seed, loss: 'custom', customLoss: reweighted }), v: 3 + seed })),
      ...[0, 1].map((seed) => ({ config: SyntheticConfigSchema.parse({ seed, loss: 'custom', customLoss: other }), v: 5 + seed })),
    ].map((r, i) => ({ id: i + 1, status: 'done', config: r.config as unknown as Record<string, unknown>, final: { eu: r.v } }));
    const byLoss = computeRunStats(runs, StatsInputSchema.parse({ ids: runs.map((r) => r.id), metric: 'eu', groupBy: 'loss' }));
    expect(byLoss.groups.map((g) => [g.key, g.runIds])).toEqual([
      ['dpo', [1, 2]],
      ['reweighted dpo', [3, 4]],
      ['other', [5, 6]],
    ]);
    const byAll = computeRunStats(runs, StatsInputSchema.parse({ ids: runs.map((r) => r.id), metric: 'eu' }));
    expect(byAll.groups.map((g) => g.key)).toEqual(['loss=dpo', 'loss=reweighted dpo', 'loss=other']);
  });
});
