/**
 * Issue 8 item 2: every config field that sets the amount of work has an upper bound, refused before any work with
 * a message naming the field and the bound (the run config, a sweep's steps override, a dataset's pair count).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { MAX_DATASET_PAIRS } from '@shared/synthetic-config';
import { tempDir } from './tmp';

const tmp = tempDir();
const lab = createLab({ dbFile: tmp.file('config-bounds.db'), mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
afterAll(() => {
  lab.close();
  tmp.cleanup();
});

describe('config bounds', () => {
  it('bounds K, refSteps, pairsPerPrompt, hidden, evalEvery and logEvery, naming each field and its bound', async () => {
    const res = await lab.service.invoke('runs:start', {
      kind: 'synthetic',
      config: { K: 513, refSteps: 1_000_001, pairsPerPrompt: 100_001, hidden: 4097, evalEvery: 2e6, logEvery: 2e6 },
    });
    expect(res.ok).toBe(false);
    if (!res.ok)
      expect(res.error.issues).toEqual([
        { path: 'config.K', message: 'K must be at most 512' },
        { path: 'config.refSteps', message: 'refSteps must be at most 1000000' },
        { path: 'config.pairsPerPrompt', message: 'pairsPerPrompt must be at most 100000' },
        { path: 'config.hidden', message: 'hidden must be at most 4096' },
        { path: 'config.evalEvery', message: 'evalEvery must be at most 1000000' },
        { path: 'config.logEvery', message: 'logEvery must be at most 1000000' },
      ]);
    expect(lab.store.runs.list({})).toHaveLength(0);
  });

  it("bounds a sweep's steps override like a run's steps, creating nothing", async () => {
    const res = await lab.service.invoke('sweeps:start', { preset: 'table1', seeds: 1, steps: 10_000_000 });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.issues).toEqual([{ path: 'steps', message: 'steps must be at most 1000000' }]);
    expect(lab.store.sweeps.list()).toHaveLength(0);
  });

  it(`refuses a dataset of more than ${MAX_DATASET_PAIRS} pairs before checking any pair, saving no run`, async () => {
    const pairs = new Array<[number, number, number]>(MAX_DATASET_PAIRS + 1).fill([0, 1, 2]);
    const res = await lab.service.invoke('runs:start', { kind: 'synthetic', config: {}, dataset: { K: 20, alpha: 0.6, pairs } });
    expect(res.ok).toBe(false);
    if (!res.ok)
      expect(res.error.issues).toEqual([{ path: 'dataset', message: `dataset.pairs: ${MAX_DATASET_PAIRS + 1} pairs; at most ${MAX_DATASET_PAIRS}` }]);
    expect(lab.store.runs.list({})).toHaveLength(0);
  });
});
