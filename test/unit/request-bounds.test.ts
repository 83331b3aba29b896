/** Small requests must not ask for unbounded work: each bound is refused before any work, naming the field and the bound. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { LIMITS } from '@shared/contract';
import { MAX_SWEEP_RUNS } from '@shared/sweeps';
import { tempDir } from './tmp';

const tmp = tempDir();
const lab = createLab({ dbFile: tmp.file('bounds.db'), mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
afterAll(() => {
  lab.close();
  tmp.cleanup();
});

describe('request bounds', () => {
  it('counts repeated export ids once (20,000 copies of one id export one run) and caps distinct ids', async () => {
    const id = lab.store.runs.createMany([{ name: 'r', kind: 'synthetic', config: { loss: 'dpo' } }])[0];
    lab.store.metrics.append(id, { steps: [0, 1], nameIdx: [0, 0], names: ['loss'], values: [0.7, 0.6] });
    const many = await lab.service.invoke('runs:exportCsv', { ids: new Array(20_000).fill(id) });
    expect(many.ok).toBe(true);
    if (many.ok) expect((many.value as { csv: string }).csv.trim().split('\n')).toHaveLength(3);
    const distinct = Array.from({ length: LIMITS.exportRuns + 1 }, (_, i) => i + 1);
    const res = await lab.service.invoke('runs:exportCsv', { ids: distinct });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.issues?.[0]).toEqual({ path: 'ids', message: `ids: at most ${LIMITS.exportRuns} runs per export` });
  });

  it('caps the metric names one runs:metrics request may ask for', async () => {
    const res = await lab.service.invoke('runs:metrics', { id: 1, names: Array.from({ length: LIMITS.metricNames + 1 }, (_, i) => `m${i}`) });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.issues?.[0].path).toBe('names');
  });

  it('refuses a sweep grid that would expand past the run limit, before creating anything', async () => {
    const before = lab.store.runs.list({}).length;
    const values = Array.from({ length: 100 }, (_, i) => 0.001 * (i + 1));
    const res = await lab.service.invoke('sweeps:start', { grid: { lr: values, beta: values }, seeds: 1 });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.message).toContain(`more than ${MAX_SWEEP_RUNS} runs`);
    expect(lab.store.runs.list({}).length).toBe(before);
    expect(lab.store.sweeps.list()).toHaveLength(0);
  });

  it('bounds the run config fields that set the amount of work, naming the field and the bound', async () => {
    const res = await lab.service.invoke('runs:start', { kind: 'synthetic', config: { steps: 10_000_000, batchSize: 1e6 } });
    expect(res.ok).toBe(false);
    if (!res.ok)
      expect(res.error.issues).toEqual([
        { path: 'config.steps', message: 'steps must be at most 1000000' },
        { path: 'config.batchSize', message: 'batchSize must be at most 100000' },
      ]);
  });
});
