import { describe, expect, it } from 'vitest';
import { PAPER_LOSSES } from '@shared/losses';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { summariseRuns } from '@shared/sweeps';
import { table1Text } from '../../src-main/cli/table1-text';
import { GridError, expandGrid, planBatches, table1Configs } from '../../src-main/engine/synthetic/sweep';

describe('expandGrid', () => {
  it('gives the Cartesian product over the base, first field slowest, with defaults filled', () => {
    const out = expandGrid({ steps: 50 }, { loss: ['dpo', 'bdpo'], seed: [0, 1, 2] });
    expect(out.length).toBe(6);
    expect(out.map((c) => [c.loss, c.seed])).toEqual([
      ['dpo', 0],
      ['dpo', 1],
      ['dpo', 2],
      ['bdpo', 0],
      ['bdpo', 1],
      ['bdpo', 2],
    ]);
    for (const c of out) expect(c).toEqual(SyntheticConfigSchema.parse({ steps: 50, loss: c.loss, seed: c.seed }));
    expect(expandGrid({ lr: 0.1 }, {})).toEqual([SyntheticConfigSchema.parse({ lr: 0.1 })]);
  });

  it('names the grid field and value index of a bad value, and unknown fields', () => {
    expect(() => expandGrid({}, { lr: [0.1, -1] })).toThrow(new GridError([{ path: 'grid.lr[1]', message: 'lr must be positive' }]));
    expect(() => expandGrid({}, { lossy: [1] })).toThrow(/^grid\.lossy: not a run-config field/);
    expect(() => expandGrid({}, { loss: ['dpo', 'foo'] })).toThrow(/^grid\.loss\[1\]: unknown loss "foo"/);
    expect(() => expandGrid({}, { seed: [] })).toThrow('grid.seed: needs at least one value');
    expect(() => expandGrid({ steps: 0 }, { seed: [1] })).toThrow(/^base\.steps: /);
  });
});

describe('Table 1 preset', () => {
  it('is 6 losses × 3 masks × n seeds', () => {
    const cs = table1Configs({ seeds: 5, steps: 200 });
    expect(cs.length).toBe(90);
    expect(new Set(cs.map((c) => c.loss))).toEqual(new Set(PAPER_LOSSES));
    expect([...new Set(cs.map((c) => c.mask))]).toEqual([0, 0.2, 0.4]);
    expect([...new Set(cs.map((c) => c.seed))]).toEqual([0, 1, 2, 3, 4]);
    expect(cs.every((c) => c.steps === 200 && c.refSteps === 300 && c.batchSize === 64 && c.model === 'mlp')).toBe(true);
    expect(table1Configs().every((c) => c.steps === 1000)).toBe(true);
    // one program for the whole preset
    expect(planBatches(cs)).toEqual([cs.map((_, i) => i)]);
  });
});

describe('sweep summary', () => {
  it('gives mean ± sample std per cell, seeds pooled, with the paper value, and prints Table 1', () => {
    let id = 0;
    const mk = (loss: 'dpo' | 'bdpo', mask: number, seed: number, eu: number, status = 'done') => ({
      id: ++id,
      status,
      config: SyntheticConfigSchema.parse({ loss, mask, seed }) as unknown as Record<string, unknown>,
      final: { expectedUtility: eu, expectedUtilityNormalized: eu / 10, pBest: 0, oodMass: 0, klToRef: 0 },
    });
    const summary = summariseRuns(
      [mk('dpo', 0, 0, 4), mk('dpo', 0, 1, 6), mk('bdpo', 0, 0, 5), mk('dpo', 0, 2, 5), mk('dpo', 0.2, 0, 3), mk('dpo', 0.2, 1, 99, 'failed')],
      'table1',
    );
    expect(summary.varying.sort()).toEqual(['loss', 'mask']);
    expect(summary.statusCounts).toEqual({ done: 5, failed: 1 });
    expect(summary.metric).toBe('expectedUtilityNormalized'); // the paper is compared on its own scale
    const dpo0 = summary.cells.find((c) => c.key.loss === 'dpo' && c.key.mask === 0)!;
    expect([dpo0.n, dpo0.metrics.expectedUtility.mean, dpo0.runIds]).toEqual([3, 5, [1, 2, 4]]);
    expect(dpo0.metrics.expectedUtility.std).toBeCloseTo(1, 14); // sample std of 4, 6, 5 (n − 1)
    expect(dpo0.paper).toBe(4.28);
    const dpo02 = summary.cells.find((c) => c.key.loss === 'dpo' && c.key.mask === 0.2)!;
    expect([dpo02.n, dpo02.metrics.expectedUtility.mean, dpo02.paper]).toEqual([1, 3, 3.98]); // the failed run is not averaged
    // the paper beside the normalised metric (its scale); the raw one after it, without the paper's numbers
    const lines = table1Text(summary)
      .split('\n')
      .map((l) => l.trimEnd());
    expect(lines[0]).toMatch(/^R̃ = final expectedUtilityNormalized .*paper's Table 1 "reward" in brackets$/);
    expect(lines.slice(1, 4)).toEqual(['mask  dpo                 bdpo', '0.0   0.50 ± 0.10 (4.28)  0.50 (4.45)', '0.2   0.30 (3.98)         —']);
    expect(lines[5]).toMatch(/^R = final expectedUtility \(raw .*not on the paper's scale$/);
    expect(lines.slice(6)).toEqual(['mask  dpo          bdpo', '0.0   5.00 ± 1.00  5.00', '0.2   3.00         —']);
  });
});
