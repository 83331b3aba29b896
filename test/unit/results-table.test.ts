import { describe, expect, it } from 'vitest';
import { bestPerColumn, sortResults, statText } from '../../src-shared/eval-table';
import type { EvalRecord } from '../../src-shared/eval';

const rec = (id: number, help: number | null, harm: number | null, status: EvalRecord['status'] = 'done'): EvalRecord =>
  ({
    id,
    name: `e${id}`,
    status,
    summary: {
      n: 4,
      help: help === null ? null : { mean: help, se: 0.1, n: 4 },
      harm: harm === null ? null : { mean: harm, se: 0.2, n: 4 },
      sr: null,
      winRate: null,
      tokensPerSecond: null,
    },
  }) as unknown as EvalRecord;

describe('results table', () => {
  const rows = [rec(1, 0.5, 1), rec(2, 2, -1), rec(3, null, 0), rec(4, 9, -5, 'failed')];

  it('sorts by a column either way with missing values last', () => {
    expect(sortResults(rows, 'help', -1).map((r) => r.id)).toEqual([4, 2, 1, 3]);
    expect(sortResults(rows, 'help', 1).map((r) => r.id)).toEqual([1, 2, 4, 3]);
    expect(sortResults(rows, 'name', 1).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(sortResults(rows, '', 1).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it('marks the best finished row per column: high Help, low Harm; none where no row has a value', () => {
    expect(bestPerColumn(rows)).toEqual({ help: 2, harm: 2, sr: null, winRate: null, oracleHelp: null, oracleHarm: null, oracleSr: null });
  });

  it('writes mean ± SE, rates as percentages', () => {
    expect(statText({ mean: -0.5, se: 0.25, n: 4 })).toBe('−0.500 ± 0.250');
    expect(statText({ mean: 0.75, se: 0.2166, n: 4 }, true)).toBe('75.0% ± 21.7%');
    expect(statText({ mean: 1, se: null, n: 1 })).toBe('1.000');
    expect(statText(null)).toBe('—');
  });
});
