/**
 * Issue 11 item 1 in the synthetic trainer: a custom loss trains through the batched engine like a built-in. The
 * dpo formula reproduces the dpo run (same seed) step for step, balance diagnostics included; custom losses with
 * different formulas are kept apart when they train side by side.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemorySink } from '../../src-main/engine/sink';
import { SyntheticConfigSchema, type SyntheticConfigInput } from '@shared/synthetic-config';
import { runSyntheticBatch } from '../../src-main/engine/synthetic/experiment';
import { BUILTIN_FORMULAS } from '@shared/formula';
import { rowsOf } from '../support/metric-rows';

const small: SyntheticConfigInput = { K: 6, steps: 60, refSteps: 20, pairsPerPrompt: 10, seed: 4, evalEvery: 20, beta: 0.5 };
const cfg = (c: SyntheticConfigInput) => SyntheticConfigSchema.parse({ ...small, ...c });
const REWEIGHTED = 'w = sg(2 * sigmoid(logp_l - logp_w))\n-w * logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function expectSameRows(a: Map<string, number>, b: Map<string, number>, tol: number) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, v] of b) if (!(Math.abs(a.get(k)! - v) <= tol * (1 + Math.abs(v)))) expect.fail(`${k}: custom ${a.get(k)} vs built-in ${v}`);
}

describe('custom (formula) losses in the synthetic trainer', () => {
  it('the dpo formula reproduces a dpo run with the same seed: final metrics, every logged metric (balance included)', async () => {
    const sa = new MemorySink();
    const [dpo] = await runSyntheticBatch([{ config: cfg({ loss: 'dpo' }) }], sa);
    const sb = new MemorySink();
    const [mine] = await runSyntheticBatch([{ config: cfg({ loss: 'custom', customLoss: { name: 'typed dpo', formula: BUILTIN_FORMULAS.dpo } }) }], sb);
    expect(mine.config.customLoss?.formula).toBe(BUILTIN_FORMULAS.dpo);
    for (const [k, v] of Object.entries(dpo.final)) expect(Math.abs((mine.final as unknown as Record<string, number>)[k] - v), k).toBeLessThan(1e-6);
    const rows = rowsOf(sb, 0);
    expect(rows.has('60|balance/log10_prob_ratio')).toBe(true);
    expect(rows.has('60|balance/param_grad_norm_chosen')).toBe(true);
    expectSameRows(rows, rowsOf(sa, 0), 1e-5);
  });

  it('side by side: built-ins, the typed dpo and a reweighted dpo train as one job, each with its own loss', async () => {
    const configs = [
      cfg({ loss: 'dpo' }),
      cfg({ loss: 'custom', customLoss: { name: 'reweighted', formula: REWEIGHTED } }),
      cfg({ loss: 'nbdpo-asymm' }),
      cfg({ loss: 'custom', customLoss: { name: 'typed nbdpo', formula: BUILTIN_FORMULAS['nbdpo-asymm'] } }),
      cfg({ loss: 'custom', customLoss: { name: 'typed dpo', formula: BUILTIN_FORMULAS.dpo } }),
    ];
    const sink = new MemorySink();
    const res = await runSyntheticBatch(
      configs.map((config) => ({ config })),
      sink,
    );
    const eu = res.map((r) => r.final.expectedUtility);
    expect(Math.abs(eu[4] - eu[0])).toBeLessThan(1e-5);
    expect(Math.abs(eu[3] - eu[2])).toBeLessThan(1e-5);
    // the reweighted loss is its own group (not folded into the other custom losses): it ends elsewhere
    expect(Math.abs(eu[1] - eu[0])).toBeGreaterThan(1e-3);
    expect(Math.abs(eu[1] - eu[3])).toBeGreaterThan(1e-3);
    const lossAt = (run: number) => rowsOf(sink, run).get('1|loss')!;
    // step 1 of the reweighted loss: w ≈ 2σ(ll − lw) per pair, so its loss is not dpo's
    expect(Math.abs(lossAt(1) - lossAt(0))).toBeGreaterThan(1e-4);
  });

  it('a bad formula stops the launch before any work, naming the character', async () => {
    const sink = new MemorySink();
    await expect(
      runSyntheticBatch([{ config: { ...small, loss: 'custom', customLoss: { name: 'bad', formula: 'logp_w * ref' } } as never }], sink),
    ).rejects.toThrow(/unknown name ref.*at character 10/);
    expect(sink.rows).toHaveLength(0);
  });
});
