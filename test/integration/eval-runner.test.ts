/**
 * The evaluation runner with real worker processes: a queued evaluation cancels at once, a running one stops at its
 * next batch (or is killed after the grace period), a lab closed mid-evaluation fails it saying why, and the
 * lifecycle is heard on the lab's event stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { createLab } from '../../src-main/api/lab';
import { LabStore } from '../../src-main/store';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { writeTinyModel } from '../support/tiny-models';
import { writeTinyScorer } from '../support/tiny-scorers';
import { tempDir } from '../unit/tmp';
import { heard, invoke } from '../support/lab-service';

const tmp = tempDir('dpo-lab-eval-runner-');
afterAll(() => tmp.cleanup());
const policy = tmp.file('policy');
const reward = tmp.file('reward');
const prompts = tmp.file('prompts.txt');

beforeAll(() => {
  writeTinyModel(policy, { arch: 'gpt2', seed: 3 });
  writeTinyScorer(reward, { arch: 'gpt2', seed: 4 });
  // plain text, one prompt a line: 60 prompts, one per batch, so a cancel lands between batches
  fs.writeFileSync(prompts, Array.from({ length: 60 }, (_, i) => `prompt number ${i}`).join('\n'));
});

async function until(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const start = { model: policy, prompts, reward, settings: { maxNewTokens: 24, batchSize: 1 } };

describe('evaluation runner', () => {
  it('cancels a queued evaluation at once and a running one at its next batch', async () => {
    const lab = createLab({ dbFile: tmp.file('cancel.db'), mode: 'cli', launcher: childWorkerLauncher(), backend: 'wasm' });
    try {
      const events = heard(lab);
      const a = (await invoke<{ evalId: number }>(lab, 'evals:start', start)).evalId;
      const b = (await invoke<{ evalId: number }>(lab, 'evals:start', start)).evalId;
      expect(lab.store.evals.get(b)!.status).toBe('queued');
      expect(await invoke(lab, 'evals:cancel', { id: b })).toEqual({ ok: true });
      expect(lab.store.evals.get(b)).toMatchObject({ status: 'cancelled', error: null });

      await until(() => events.some((e) => e.type === 'eval:progress' && e.evalId === a), 'progress of the running evaluation');
      expect(lab.store.evals.get(a)!.status).toBe('running');
      expect(await invoke(lab, 'evals:cancel', { id: a })).toEqual({ ok: true });
      await lab.evals.settled(a);
      expect(lab.store.evals.get(a)).toMatchObject({ status: 'cancelled', summary: null });
      expect(lab.store.evals.responseCount(a)).toBe(0);
      const statuses = events.filter((e) => e.type === 'eval:status' && e.evalId === a).map((e) => (e as { status: string }).status);
      expect(statuses).toEqual(['queued', 'running', 'cancelled']);
      // an ended evaluation cannot be cancelled again, and may be deleted
      expect(await invoke(lab, 'evals:cancel', { id: a })).toEqual({ ok: false });
      expect(await invoke(lab, 'evals:delete', { id: a })).toEqual({ ok: true });
      expect(lab.store.evals.get(a)).toBeNull();
    } finally {
      lab.close();
    }
  });

  it('a lab closed mid-evaluation fails it with the reason, and the file says so after a restart', async () => {
    const file = tmp.file('close.db');
    const lab = createLab({ dbFile: file, mode: 'cli', launcher: childWorkerLauncher(), backend: 'wasm' });
    const events = heard(lab);
    const id = (await invoke<{ evalId: number }>(lab, 'evals:start', start)).evalId;
    await until(() => events.some((e) => e.type === 'eval:status' && e.evalId === id && e.status === 'running'), 'the evaluation to start');
    await expect(invoke(lab, 'evals:delete', { id })).rejects.toThrow(/is running; cancel it before deleting/);
    lab.close();
    const again = LabStore.open(file);
    try {
      expect(again.evals.get(id)).toMatchObject({ status: 'failed', error: 'the lab was closed while the evaluation was in progress' });
    } finally {
      again.close();
    }
  });
});
