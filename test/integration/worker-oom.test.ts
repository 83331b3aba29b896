/**
 * Issue 8 item 2: a worker that runs out of memory says so in its run's error and log. The worker is a real
 * child process given a small V8 heap (--max-old-space-size) and a run whose dataset cannot fit in it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { tempDir } from '../unit/tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('a worker out of memory', () => {
  it('fails the run with "out of memory" and advice, in its error and its log; the lab stays up', async () => {
    const lab = createLab({
      dbFile: tmp.file('oom.db'),
      mode: 'cli',
      launcher: childWorkerLauncher({ execArgv: ['--max-old-space-size=64'] }),
      backend: 'cpu',
    });
    try {
      // 512 prompts × 100,000 pairs each: about 51 million pairs, far beyond a 64 MB heap
      const res = await lab.service.invoke('runs:start', { kind: 'synthetic', config: { K: 512, pairsPerPrompt: 100_000, steps: 5, refSteps: 1 } });
      if (!res.ok) throw new Error(res.error.message);
      const id = (res.value as { runIds: number[] }).runIds[0];
      await new Promise<void>((resolve) => {
        const off = lab.service.onEvent((e) => {
          if (e.type === 'run:status' && e.runId === id && e.status !== 'running' && e.status !== 'queued') {
            off();
            resolve();
          }
        });
      });
      const run = lab.store.runs.get(id);
      expect(run?.status).toBe('failed');
      expect(run?.error).toMatch(/^out of memory: the worker process reached its JavaScript heap limit .*before the run finished; .*--max-old-space-size/);
      const log = lab.store.runs.logs(id).map((l) => l.text);
      expect(log.at(-1)).toMatch(/^failed after [\d.]+ s: out of memory: /);
      // the lab itself is unharmed and answers
      const info = await lab.service.invoke('app:info', {});
      expect(info.ok).toBe(true);
    } finally {
      lab.close();
    }
  });
});
