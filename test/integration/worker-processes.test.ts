import { afterAll, describe, expect, it } from 'vitest';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import type { LabEvent } from '@shared/events';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { tempDir } from '../unit/tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const small = SyntheticConfigSchema.parse({ steps: 60, refSteps: 20, evalEvery: 20, pairsPerPrompt: 20, seed: 1 });
const long = SyntheticConfigSchema.parse({ steps: 1_000_000, refSteps: 0, evalEvery: 1000, pairsPerPrompt: 20 });

function newLab(name: string, backend: 'cpu' | 'tensorflow' = 'cpu') {
  return createLab({ dbFile: tmp.file(name), mode: 'cli', launcher: childWorkerLauncher(), backend });
}

async function until(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('run manager with real worker processes', () => {
  it('runs a synthetic job to done, storing metrics, snapshots, final values and the backend', async () => {
    const lab = newLab('done.db');
    const events: LabEvent[] = [];
    lab.manager.onEvent((e) => events.push(e));
    const id = lab.store.runs.create({ name: 'x', kind: 'synthetic', config: small, seed: 1 });
    lab.manager.enqueueSynthetic([{ runId: id, config: small }]);
    await lab.manager.idle();
    const run = lab.store.runs.get(id)!;
    expect(run.status).toBe('done');
    expect(run.backend).toMatch(/^cpu/);
    expect(run.final?.expectedUtility).toBeGreaterThan(0);
    const loss = lab.store.metrics.series(id, { names: ['loss'] }).loss;
    expect(loss.steps).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(lab.store.metrics.snapshots(id, 'probs').steps.length).toBeGreaterThanOrEqual(3);
    expect(lab.store.artifacts.get(id, 'dataset')).toBeDefined();
    const statuses = events.filter((e) => e.type === 'run:status').map((e) => (e as { status: string }).status);
    expect(statuses).toEqual(['queued', 'running', 'done']);
    expect(events.some((e) => e.type === 'run:metrics')).toBe(true);
    const log = lab.store.runs.logs(id).map((l) => l.text);
    expect(log[0]).toBe('queued');
    expect(log).toContainEqual(expect.stringMatching(/^worker \d+ started; backend cpu/));
    expect(log).toContainEqual(expect.stringMatching(/^dataset drawn from seed 1: 400 pairs, 0 masked cells$/));
    expect(log).toContainEqual(expect.stringMatching(/^πref after 20 warm-up steps: expectedUtility \d/));
    expect(log[log.length - 1]).toMatch(/^done after [\d.]+ s: expectedUtility/);
    expect(events.filter((e) => e.type === 'run:log')).toHaveLength(log.length);
    lab.close();
  });

  it('marks a run failed when its worker is killed with SIGKILL, keeping metrics up to the last second', async () => {
    const lab = newLab('kill.db');
    const progress: { t: number; done: number }[] = [];
    lab.manager.onEvent((e) => {
      if (e.type === 'run:progress') progress.push({ t: Date.now(), done: e.done });
    });
    const id = lab.store.runs.create({ name: 'doomed', kind: 'synthetic', config: long });
    lab.manager.enqueueSynthetic([{ runId: id, config: long }]);
    await until(() => progress.length > 0 && Date.now() - progress[0].t > 2500);
    const [pid] = lab.manager.workerPids();
    const tKill = Date.now();
    process.kill(pid, 'SIGKILL');
    await lab.manager.idle();
    const run = lab.store.runs.get(id)!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/killed \(SIGKILL\)/);
    expect(lab.store.runs.logs(id).at(-1)).toMatchObject({ level: 'error', text: expect.stringMatching(/^failed after .*SIGKILL/) });
    // Every step the worker had reached one second before the kill is in the database.
    const reachedBefore = Math.max(...progress.filter((p) => p.t <= tKill - 1000).map((p) => p.done));
    const stored = lab.store.metrics.series(id, { names: ['loss'] }).loss.steps;
    expect(reachedBefore).toBeGreaterThan(0);
    expect(Math.max(...stored)).toBeGreaterThanOrEqual(reachedBefore);
    // ... and they are contiguous: no batch in the middle went missing.
    expect(stored[stored.length - 1] - stored[0] + 1).toBe(stored.length);
    lab.close();
  });

  it('cancels a running run and a queued one', async () => {
    const lab = newLab('cancel.db');
    const a = lab.store.runs.create({ name: 'a', kind: 'synthetic', config: long });
    const b = lab.store.runs.create({ name: 'b', kind: 'synthetic', config: long });
    lab.manager.enqueueSynthetic([{ runId: a, config: long }]);
    lab.manager.enqueueSynthetic([{ runId: b, config: long }]);
    await until(() => lab.store.runs.statusOf(a) === 'running' && lab.store.metrics.count(a) > 0);
    expect(lab.store.runs.statusOf(b)).toBe('queued');
    expect(lab.manager.cancel(b)).toBe(true);
    expect(lab.store.runs.statusOf(b)).toBe('cancelled');
    expect(lab.manager.cancel(a)).toBe(true);
    await lab.manager.idle();
    expect(lab.store.runs.statusOf(a)).toBe('cancelled');
    expect(lab.store.metrics.count(b)).toBe(0);
    lab.close();
  });

  it('fails runs with a clear reason when the requested backend cannot start', async () => {
    const lab = newLab('nobackend.db', 'tensorflow');
    const id = lab.store.runs.create({ name: 'tf', kind: 'synthetic', config: small });
    lab.manager.enqueueSynthetic([{ runId: id, config: small }]);
    await lab.manager.idle();
    const run = lab.store.runs.get(id)!;
    // Where tfjs-node is installed this run succeeds instead; both outcomes are explicit.
    if (run.status === 'failed') expect(run.error).toMatch(/tfjs-node (not installed|failed to load|installed without its native binding)/);
    else expect(run.backend).toMatch(/tensorflow/);
    lab.close();
  });
});
