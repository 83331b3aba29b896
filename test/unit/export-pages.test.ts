/** The paged metrics export reads the same rows, in the same order, as the one-query export, whatever the page size. */
import { afterAll, describe, expect, it } from 'vitest';
import { LabStore } from '../../src-main/store';
import { metricsCsv, tableCsv } from '../../src-main/store/export';
import { metricsCsvString, metricsExport } from '../../src-main/api/metrics-export';
import { metricPages } from '../../src-main/store/export';
import { tempDir } from './tmp';

const tmp = tempDir();
const store = LabStore.open(tmp.file('pages.db'));
afterAll(() => {
  store.close();
  tmp.cleanup();
});

describe('paged metrics export', () => {
  const [a, b, empty] = store.runs.createMany(['a', 'b', 'empty'].map((name) => ({ name, kind: 'synthetic' as const, config: { loss: 'dpo' } })));
  // every step logs loss and grad_norm; every 10th also the eval metrics; one value is NaN (an empty cell),
  // one name starts with '=' (formula-neutralised); names arrive out of order and are interned out of order
  const rows = { steps: [] as number[], nameIdx: [] as number[], values: [] as number[] };
  const names = ['loss', 'grad_norm', 'expectedUtility', '=odd', 'pBest'];
  for (let step = 1; step <= 95; step++)
    for (let n = 0; n < names.length; n++) {
      if (n >= 2 && step % 10) continue;
      rows.steps.push(step);
      rows.nameIdx.push(n);
      rows.values.push(step === 40 && n === 1 ? NaN : step * 10 + n);
    }
  store.metrics.append(b, { ...rows, names });
  store.metrics.append(a, { steps: [3, 1, 2], nameIdx: [0, 0, 0], names: ['zeta'], values: [0.3, 0.1, 0.2] });

  it.each([1, 2, 3, 7, 64, 4096])('gives the one-query CSV with pages of %i rows', async (pageRows) => {
    const ids = [b, empty, a];
    const pages: (string | number)[][][] = [];
    for await (const page of metricPages(store.db, ids, pageRows)) pages.push(page);
    expect(pages.every((p) => p.length > 0)).toBe(true);
    const whole = metricsCsv(store.metrics, ids);
    expect(tableCsv(['run_id', 'step', 'name', 'value'], pages.flat())).toBe(whole);
    if (pageRows > 1) expect(pages.length).toBeLessThan(whole.split('\n').length);
  });

  it('writes the same text as the one-query export, header, empty cells and neutralised formulas included', async () => {
    const text = await metricsCsvString(metricsExport(store, [b]));
    expect(text).toBe(metricsCsv(store.metrics, [b]));
    expect(text).toContain(`${b},40,grad_norm,\n`);
    expect(text).toContain(`${b},10,'=odd,`);
    expect(text.split('\n')[0]).toBe('run_id,step,name,value');
  });

  it('names a long list of runs without making the file name unusable', () => {
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(metricsExport(store, ids).filename).toBe('runs-1-2-3-4-5-and-195-more-metrics.csv');
    expect(metricsExport(store, [7]).filename).toBe('run-7-metrics.csv');
  });
});
