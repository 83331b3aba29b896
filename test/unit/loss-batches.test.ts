/**
 * A launcher's pick of built-in and custom losses becomes requests the lab's own contract accepts: built-ins with
 * the first custom loss in one, each further custom loss in one of its own; a built-in run never carries a formula.
 */
import { describe, expect, it } from 'vitest';
import { parseInput } from '@shared/contract';
import { defaultSyntheticConfig } from '@shared/synthetic-config';
import { batchConfig, customLossOfConfig, lossBatches } from '@shared/loss-batches';

const A = { name: 'a-loss', formula: '-logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))' };
const B = { name: 'b-loss', formula: 'softplus(logp_l - logp_w)' };

describe('lossBatches', () => {
  it('built-ins alone: one request; built-ins with two custom losses: two', () => {
    expect(lossBatches(['dpo', 'bdpo'], [])).toEqual([{ losses: ['dpo', 'bdpo'] }]);
    expect(lossBatches([], [])).toEqual([]);
    expect(lossBatches(['dpo'], [A, B])).toEqual([
      { losses: ['dpo', 'custom'], customLoss: A },
      { losses: ['custom'], customLoss: B },
    ]);
  });

  it('every request parses under runs:start; the lab makes one run per loss, the formula only on the custom one', () => {
    // a config cloned from a custom run still carries the old formula: each request replaces or drops it
    const base = { ...defaultSyntheticConfig(), loss: 'custom' as const, customLoss: B };
    for (const [builtins, customs, runs] of [
      [['dpo', 'ipo'], [], 2],
      [['dpo'], [A], 2],
      [[], [A, B], 1],
    ] as const) {
      const batches = lossBatches(builtins, customs);
      for (const b of batches) {
        const input = parseInput('runs:start', { kind: 'synthetic', config: batchConfig(base, b), losses: b.losses });
        expect(input.losses).toHaveLength(b.losses.length);
        if (b.customLoss) expect(input.config).toMatchObject({ loss: 'custom', customLoss: b.customLoss });
        else expect(input.config).not.toHaveProperty('customLoss');
      }
      expect(batches.reduce((n, b) => n + b.losses.length, 0)).toBe(builtins.length + customs.length);
      expect(batches[0]?.losses.length ?? 0).toBe(runs);
    }
  });

  it('a stored config gives back its custom loss, and nothing for a built-in', () => {
    expect(customLossOfConfig({ loss: 'custom', customLoss: A })).toEqual(A);
    expect(customLossOfConfig({ loss: 'dpo' })).toBeNull();
    expect(customLossOfConfig({ loss: 'custom' })).toBeNull();
  });
});
