import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLab } from '../../src-main/api/lab';
import { startSweep } from '../../src-main/api/sweeps';
import { SweepStartSchema } from '@shared/sweeps';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import type { WorkerLauncher } from '../../src-main/runner/protocol';
import type { BenchRow } from './table';

/**
 * The Table 1 sweep as a researcher gets it: a worker process, IPC, every metric row committed to SQLite. Also
 * where its time goes: start-up (worker process, tfjs and WASM until the worker says hello), training in the
 * worker (hello until the last run is done), and the parent's time in SQLite writes (metric rows and
 * snapshots; they run on the other core while the worker trains, so they overlap the training time).
 */
export async function labSweepBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-bench-sweep-'));
  const marks = { start: 0, hello: 0, lastDone: 0 };
  const base = childWorkerLauncher();
  const launcher: WorkerLauncher = () => {
    const h = base();
    const onMessage = h.onMessage.bind(h);
    h.onMessage = (cb) =>
      onMessage((m) => {
        if (m.type === 'hello') marks.hello = performance.now();
        if (m.type === 'runDone') marks.lastDone = performance.now();
        cb(m);
      });
    return h;
  };
  const lab = createLab({ dbFile: path.join(dir, 'lab.db'), mode: 'cli', launcher });
  let writeMs = 0;
  const timed =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      const t = performance.now();
      try {
        return f(...a);
      } finally {
        writeMs += performance.now() - t;
      }
    };
  const metrics = lab.store.metrics;
  metrics.append = timed(metrics.append.bind(metrics));
  metrics.appendSnapshot = timed(metrics.appendSnapshot.bind(metrics));
  metrics.flushSnapshots = timed(metrics.flushSnapshots.bind(metrics));

  marks.start = performance.now();
  const { runIds, done } = startSweep(lab.store, lab.manager, SweepStartSchema.parse({ preset: 'table1', seeds: 5 }));
  await done;
  const seconds = (performance.now() - marks.start) / 1000;
  const rows = runIds.reduce((n, id) => n + lab.store.metrics.count(id), 0);
  const backend = lab.store.runs.get(runIds[0])?.backend?.split(' ')[0] ?? '?';
  const failed = lab.store.runs.list({ status: 'failed' }).length;
  lab.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const s = (a: number, b: number) => (b - a) / 1000;
  return [
    {
      name: 'lab: Table 1 sweep end to end (worker + SQLite)',
      backend,
      value: seconds,
      unit: 's',
      note: `${runIds.length} runs, ${rows} metric rows stored${failed ? `, ${failed} FAILED` : ''}`,
    },
    {
      name: 'lab:   start-up (worker process, tfjs, WASM)',
      backend,
      value: s(marks.start, marks.hello),
      unit: 's',
      note: 'job start until the worker says hello',
    },
    {
      name: 'lab:   training in the worker',
      backend,
      value: s(marks.hello, marks.lastDone),
      unit: 's',
      note: 'hello until the last run is done (datasets, engine, row buffering, IPC)',
    },
    {
      name: 'lab:   metric writes in the parent',
      backend: 'better-sqlite3',
      value: writeMs / 1000,
      unit: 's',
      note: 'SQLite inserts of rows and snapshots; overlap the training (other core)',
    },
    { name: 'lab: metric rows stored during the sweep', backend, value: rows / seconds, unit: 'rows/s' },
  ];
}
