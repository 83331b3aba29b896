import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLab } from '../../src-main/api/lab';
import { startSweep } from '../../src-main/api/sweeps';
import { SweepStartSchema } from '@shared/sweeps';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import type { BenchRow } from './table';

/** The Table 1 sweep as a researcher gets it: worker processes, IPC, every metric row committed to SQLite. */
export async function labSweepBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-bench-sweep-'));
  const lab = createLab({ dbFile: path.join(dir, 'lab.db'), mode: 'cli', launcher: childWorkerLauncher() });
  const t0 = performance.now();
  const { runIds, done } = startSweep(lab.store, lab.manager, SweepStartSchema.parse({ preset: 'table1', seeds: 5 }));
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const rows = runIds.reduce((n, id) => n + lab.store.metrics.count(id), 0);
  const backend = lab.store.runs.get(runIds[0])?.backend?.split(' ')[0] ?? '?';
  const failed = lab.store.runs.list({ status: 'failed' }).length;
  lab.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return [
    { name: 'lab: Table 1 sweep end to end (worker + SQLite)', backend, value: seconds, unit: 's', note: `${runIds.length} runs, ${rows} metric rows stored${failed ? `, ${failed} FAILED` : ''}` },
    { name: 'lab: metric rows stored during the sweep', backend, value: rows / seconds, unit: 'rows/s' },
  ];
}
