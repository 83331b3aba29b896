/**
 * The scorer-training job's lifecycle with real worker processes and a real SQLite file: a running training is
 * cancelled (its worker killed: training holds the thread between steps), a queued one is cancelled before it
 * starts, and a lab closed mid-training leaves it failed, saying why. Nothing is left queued or running.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import type { LabEvent } from '@shared/events';
import { writeTinyModel } from '../support/tiny-models';
import { tempDir } from './tmp';

const tmp = tempDir('dpo-lab-scorer-runner-');
afterAll(() => tmp.cleanup());
const model = tmp.file('base');
writeTinyModel(model, { arch: 'gpt2', seed: 7, hidden: 16, heads: 2, layers: 2 });
const data = tmp.file('pairs.jsonl');
fs.writeFileSync(data, Array.from({ length: 16 }, (_, i) => JSON.stringify({ prompt: `Q${i}:`, chosen: ' yes', rejected: ' no' })).join('\n'));

/** Resolves at the first event that matches. */
const next = (lab: ReturnType<typeof createLab>, match: (e: LabEvent) => boolean) =>
  new Promise<LabEvent>((resolve) => {
    const off = lab.service.onEvent((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });

async function train(lab: ReturnType<typeof createLab>, out: string): Promise<number> {
  const res = await lab.service.invoke('scorers:train', { kind: 'reward', model, data, out: tmp.file(out), settings: { steps: 1_000_000 } });
  if (!res.ok) throw new Error(res.error.message);
  return (res.value as { scorerId: number }).scorerId;
}

describe('scorer training jobs', () => {
  it('cancels a running training and a queued one; both end cancelled in the store', async () => {
    const lab = createLab({ dbFile: tmp.file('a.db'), mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    try {
      const stepping = next(lab, (e) => e.type === 'scorer:progress');
      const first = await train(lab, 'a1');
      const second = await train(lab, 'a2');
      await stepping;
      expect(lab.store.scorers.get(first)!.status).toBe('running');
      expect(lab.store.scorers.get(second)!.status).toBe('queued');
      await lab.service.invoke('scorers:cancel', { id: second });
      expect(lab.store.scorers.get(second)!.status).toBe('cancelled');
      await lab.service.invoke('scorers:cancel', { id: first });
      await lab.scorers.settled(first);
      const rec = lab.store.scorers.get(first)!;
      expect(rec).toMatchObject({ status: 'cancelled', result: null });
      expect(rec.log.at(-1)).toBe('cancelled');
      // the cancelled queued one never started a worker
      expect(lab.store.scorers.get(second)!.startedAt).toBeNull();
    } finally {
      lab.close();
    }
  }, 120_000);

  it('a lab closed mid-training fails it, saying why; the next lab sees it failed', async () => {
    const db = tmp.file('b.db');
    const lab = createLab({ dbFile: db, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    const stepping = next(lab, (e) => e.type === 'scorer:progress');
    const id = await train(lab, 'b1');
    await stepping;
    lab.close();
    const again = createLab({ dbFile: db, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    try {
      expect(again.store.scorers.get(id)).toMatchObject({ status: 'failed', error: 'the lab was closed while the scorer was training' });
    } finally {
      again.close();
    }
  }, 120_000);
});
