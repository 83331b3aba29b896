/**
 * sweeps:report on a sensitivity sweep alone (what the Report button sends from such a sweep): its figures come
 * from the runs at the spec's default setting only, the study's sentence and table are there, and a sweep that is
 * not finished, not of the named preset or unknown is refused naming the field. Runs are recorded straight into a
 * real SQLite store (a real study is 1296 runs; the report reads only what is stored).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LabStore } from '../../src-main/store';
import { buildReport } from '../../src-main/api/reports';
import { finishSweep } from '../../src-main/api/sweeps';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { PAPER_LOSSES } from '@shared/losses';
import { LabError } from '@shared/errors';
import { tempDir } from './tmp';

const tmp = tempDir();
const store = LabStore.open(tmp.file('report-sweeps.db'));
afterAll(() => {
  store.close();
  tmp.cleanup();
});

const K = 20;
/** A policy peaked at y = x with the given mass on the diagonal. */
const policy = (onDiag: number) => Array.from({ length: K }, (_, x) => Array.from({ length: K }, (_, y) => (y === x ? onDiag : (1 - onDiag) / (K - 1))));

function makeSensitivitySweep(): { sweepId: number; defaultRuns: Map<string, number> } {
  const sweepId = store.sweeps.create('Sensitivity study (2 seeds)', 'sensitivity', { preset: 'sensitivity', seeds: 2 });
  const configs = [300, 1000].flatMap((steps) =>
    [0, 1].flatMap((seed) => PAPER_LOSSES.map((loss) => SyntheticConfigSchema.parse({ steps, beta: 1, lr: 0.01, model: 'mlp', mask: 0, seed, loss }))),
  );
  const ids = store.runs.createMany(configs.map((config) => ({ name: config.loss, kind: 'synthetic' as const, config, seed: config.seed, sweepId })));
  const defaultRuns = new Map<string, number>();
  ids.forEach((id, i) => {
    const c = configs[i];
    const v = c.loss === 'dpo' ? 6 + c.seed / 10 : 4 + c.seed / 10;
    store.metrics.append(id, { steps: [1, 2, 3], nameIdx: [0, 0, 0], names: ['balance/log10_prob_ratio'], values: [-1, -2, c.steps === 300 ? -9 : -3] });
    store.metrics.appendSnapshot(id, c.steps, 'probs', policy(c.steps === 300 ? 0.9 : 0.5));
    store.runs.finish(id, 'done', { final: { expectedUtility: 2 * v, expectedUtilityNormalized: v } });
    if (c.steps === 1000 && c.seed === 0) defaultRuns.set(c.loss, id);
  });
  store.metrics.flushSnapshots();
  finishSweep(store, sweepId);
  return { sweepId, defaultRuns };
}

describe('sweeps:report of a sensitivity sweep', () => {
  it('draws its figures from the runs at the default setting and carries the study', async () => {
    const { sweepId, defaultRuns } = makeSensitivitySweep();
    const { filename, content, assets } = await buildReport(store, '1.2.3', { sensitivity: sweepId, format: 'html' });
    expect(filename).toBe('table1-report.html');
    expect(assets).toEqual([]);
    expect(content).toContain('dpo ranks first in 2 of 2 settings');
    expect(content).toContain('at the default setting: model mlp, 1000 steps, β 1, lr 0.01');
    // Figure 2 shows the 1000-step runs (0.5 on the diagonal), not the 300-step ones (0.9)
    expect(content).toContain(`run ${defaultRuns.get('dpo')} · R̃ 6.00`);
    expect(content).toContain(`run ${defaultRuns.get('bdpo')} · R̃ 4.00`);
    expect(content).toContain('π(y=3|x=3) = 0.5000');
    expect(content).not.toContain('π(y=3|x=3) = 0.9000');
    // one curves figure per metric the runs logged (here only the balance); Figure 1 in its six panels
    expect(content.match(/<figure class="chart" id="curves-/g)).toHaveLength(1);
    expect(content.match(/<figure class="small" id="figure1-/g)).toHaveLength(6);
    expect(content).not.toContain('<h2>Table 1: ours beside the paper</h2>');
  });

  it('refuses an unknown, unfinished or other-preset sweep, naming the field', async () => {
    const err = async (input: Parameters<typeof buildReport>[2]) => {
      try {
        await buildReport(store, 'x', input);
      } catch (e) {
        return e as LabError;
      }
      throw new Error('no error');
    };
    const unknown = await err({ table1: 9999, format: 'html' });
    expect([unknown.code, unknown.issues?.[0].path]).toEqual(['not_found', 'table1']);
    const running = store.sweeps.create('t1', 'table1', { preset: 'table1', seeds: 1 });
    store.runs.createMany([{ name: 'r', kind: 'synthetic', config: SyntheticConfigSchema.parse({}), seed: 0, sweepId: running }]);
    expect((await err({ table1: running, format: 'html' })).code).toBe('conflict');
    const { sweepId } = makeSensitivitySweep();
    const wrong = await err({ table1: sweepId, format: 'html' });
    expect([wrong.code, wrong.issues?.[0].path, wrong.message]).toEqual(['invalid_input', 'table1', expect.stringContaining('is not a table1 sweep')]);
  });
});
