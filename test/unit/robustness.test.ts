/** What happens when things go wrong: diverging runs in a batch, labs closed mid-sweep or mid-run, cancels. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import type { CommandName } from '@shared/contract';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const newLab = (file: string) => createLab({ dbFile: tmp.file(file), mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });

async function invoke<T>(lab: Lab, command: CommandName, input: unknown): Promise<T> {
  const res = await lab.service.invoke(command, input);
  if (!res.ok) throw new Error(`${command}: ${res.error.message}`);
  return res.value as T;
}

describe('robustness', () => {
  it('a diverging run fails alone; the runs trained beside it finish with the same numbers as on their own', async () => {
    const lab = newLab('diverge.db');
    const base = { steps: 20, refSteps: 3, model: 'table', K: 5, pairsPerPrompt: 8 };
    const { sweepId, runIds } = await invoke<{ sweepId: number; runIds: number[] }>(lab, 'sweeps:start', { grid: { lr: [0.01, 0.02, 1e38] }, seeds: 1, base });
    await lab.service.sweepSettled(sweepId);
    const runs = runIds.map((id) => lab.store.runs.get(id)!);
    expect(runs.map((r) => r.status)).toEqual(['done', 'done', 'failed']);
    expect(runs[2].error).toMatch(/not finite|NaN|Infinity/i);
    expect(runs[2].error).not.toMatch(/\[run \d+\]/);
    expect(
      lab.store.runs
        .logs(runIds[0])
        .map((l) => l.text)
        .join('\n'),
    ).toMatch(/retraining the batch in halves/);
    expect(lab.store.sweeps.get(sweepId)!.status).toBe('failed');
    // The survivor equals a run of the same config trained alone.
    const alone = await invoke<{ runIds: number[] }>(lab, 'runs:start', { kind: 'synthetic', config: { ...base, lr: 0.01 } });
    await lab.manager.idle();
    expect(lab.store.runs.get(alone.runIds[0])!.final).toEqual(runs[0].final);
    lab.close();
  });

  it('a sweep interrupted by closing the lab is summarised and closed at the next start', async () => {
    const lab1 = newLab('interrupted.db');
    const { sweepId } = await invoke<{ sweepId: number }>(lab1, 'sweeps:start', {
      grid: { loss: ['dpo', 'bdpo'] },
      seeds: 1,
      base: { steps: 1_000_000, refSteps: 0 },
    });
    await new Promise((r) => setTimeout(r, 300));
    lab1.close();
    await lab1.service.sweepSettled(sweepId); // settles without an unhandled rejection
    const lab2 = newLab('interrupted.db');
    const sweep = lab2.store.sweeps.get(sweepId)!;
    expect(sweep.status).toBe('failed');
    expect(sweep.finishedAt).not.toBeNull();
    expect((sweep.summary as { statusCounts: Record<string, number> }).statusCounts).toEqual({ failed: 2 });
    lab2.close();
  });

  it('cancelling one queued run of a multi-loss launch keeps it out of training; deleting it harms no other run', async () => {
    const lab = newLab('cancel-queued.db');
    const blocker = await invoke<{ runIds: number[] }>(lab, 'runs:start', { kind: 'synthetic', config: { steps: 1_000_000, refSteps: 0 } });
    const pair = await invoke<{ runIds: number[] }>(lab, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 30, refSteps: 5, K: 5, pairsPerPrompt: 8 },
      losses: ['dpo', 'bdpo'],
    });
    const [dpo, bdpo] = pair.runIds;
    expect(await invoke(lab, 'runs:cancel', { id: dpo })).toEqual({ ok: true });
    expect(await invoke(lab, 'runs:delete', { id: dpo })).toEqual({ ok: true });
    await invoke(lab, 'runs:cancel', { id: blocker.runIds[0] });
    await lab.manager.idle();
    expect(lab.store.runs.get(bdpo)).toMatchObject({ status: 'done', error: null });
    expect(lab.store.runs.get(dpo)).toBeUndefined();
    lab.close();
  });

  it('cancelling a run that another live process owns says so instead of pretending', async () => {
    const lab = newLab('foreign.db');
    const id = lab.store.runs.create({ name: 'foreign', kind: 'synthetic', config: SyntheticConfigSchema.parse({}) });
    lab.store.db.prepare(`UPDATE runs SET status = 'running', owner = ? WHERE id = ?`).run(`${process.ppid}:1`, id);
    const res = await lab.service.invoke('runs:cancel', { id });
    expect(res).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/another DPO Lab process \(pid \d+\)/) } });
    lab.close();
  });

  it('after a restart, a run left running by a dead process is failed, not stuck', async () => {
    const file = 'restart.db';
    const lab1 = newLab(file);
    const id = lab1.store.runs.create({ name: 'r', kind: 'synthetic', config: SyntheticConfigSchema.parse({}) });
    lab1.store.runs.markRunning(id, { backend: 'cpu', versions: {} });
    lab1.store.db.prepare(`UPDATE runs SET owner = ? WHERE id = ?`).run(`${2 ** 22 + 4321}:1`, id);
    lab1.store.close();
    const lab2 = newLab(file);
    expect(lab2.store.runs.get(id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
    lab2.close();
  });
});
