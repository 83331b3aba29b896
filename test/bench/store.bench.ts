import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabStore } from '../../src-main/store';
import { metricsCsv } from '../../src-main/store/export';
import type { BenchRow } from './table';

/** SQLite throughput: metric rows committed per second in worker-sized batches, and CSV export speed. */
export async function storeBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-bench-'));
  const store = LabStore.open(path.join(dir, 'bench.db'));
  const names = [
    'loss',
    'rewards/chosen',
    'rewards/rejected',
    'rewards/margins',
    'rewards/accuracies',
    'logps/chosen',
    'logps/rejected',
    'balance/log10_prob_ratio',
    'balance/logp_grad_ratio',
    'grad_norm',
    'learning_rate',
    'balance/param_grad_norm_chosen',
    'balance/param_grad_norm_rejected',
  ];
  const runs = 20;
  const steps = 2000;
  const perBatch = 200; // steps per flush, about what a worker sends every 200 ms
  const ids = Array.from({ length: runs }, (_, i) => store.runs.create({ name: `b${i}`, kind: 'synthetic', config: {} }));
  let rows = 0;
  const t0 = performance.now();
  for (const id of ids) {
    for (let s0 = 1; s0 <= steps; s0 += perBatch) {
      const n = perBatch * names.length;
      const st = new Int32Array(n);
      const ni = new Uint16Array(n);
      const v = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        st[k] = s0 + Math.floor(k / names.length);
        ni[k] = k % names.length;
        v[k] = Math.random();
      }
      rows += store.metrics.append(id, { steps: st, nameIdx: ni, names, values: v });
    }
  }
  const insertS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const csv = metricsCsv(store.metrics, ids.slice(0, 5));
  const csvRows = csv.split('\n').length - 2;
  const csvS = (performance.now() - t1) / 1000;
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return [
    {
      name: 'metric rows committed (SQLite WAL, 2.6k-row batches)',
      backend: 'better-sqlite3',
      value: rows / insertS,
      unit: 'rows/s',
      note: `${rows} rows in ${insertS.toFixed(2)} s`,
    },
    { name: 'CSV export (long format)', backend: 'better-sqlite3', value: csvRows / csvS, unit: 'rows/s', note: `${csvRows} rows` },
  ];
}
