import type { Statement } from 'better-sqlite3';
import type { Db } from './db';
import type { Series } from '@shared/runs';
import { isRetryableWriteFailure } from './failures';

/** A batch of metric rows for one run, in columns (cheap to send between processes). */
export interface MetricBatch {
  steps: ArrayLike<number>;
  /** index into `names` for each row */
  nameIdx: ArrayLike<number>;
  names: readonly string[];
  values: ArrayLike<number>;
}

/** Metric rows and K×K-style snapshots. Names are interned once per database. */
export class MetricStore {
  private readonly nameIds = new Map<string, number>();
  private readonly insertMetric;
  private readonly insertName;
  private readonly selectName;

  constructor(private readonly db: Db) {
    // A sweep writes ~10⁶ rows in small per-run transactions; SQLite's default checkpoints the WAL every 1000
    // pages (4 MB), each time copying pages back and syncing the file. Every 10000 pages (≤ 40 MB of WAL) the
    // same pages are copied less often: about a third less time in writes during a Table 1 sweep.
    db.pragma('wal_autocheckpoint = 10000');
    this.insertMetric = db.prepare(`INSERT OR REPLACE INTO metrics (run_id, name_id, step, value) VALUES (?, ?, ?, ?)`);
    this.insertName = db.prepare(`INSERT OR IGNORE INTO metric_names (name) VALUES (?)`);
    this.selectName = db.prepare(`SELECT id FROM metric_names WHERE name = ?`);
  }

  private nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      this.insertName.run(name);
      id = (this.selectName.get(name) as { id: number }).id;
      this.nameIds.set(name, id);
    }
    return id;
  }

  /** Appends a batch in one transaction: either all its rows are durable or none. */
  append(runId: number, batch: MetricBatch): number {
    const n = batch.steps.length;
    this.db.transaction(() => {
      const ids = batch.names.map((nm) => this.nameId(nm));
      for (let i = 0; i < n; i++) {
        const v = batch.values[i];
        // SQLite has no NaN/Infinity; store them as NULL rather than lose the row.
        this.insertMetric.run(runId, ids[batch.nameIdx[i]], batch.steps[i], Number.isFinite(v) ? v : null);
      }
    })();
    return n;
  }

  /** Series per metric name, ordered by step; optionally only some names and only steps after `afterStep`. */
  series(runId: number, opts: { names?: string[]; afterStep?: number } = {}): Record<string, Series> {
    const args: (number | string)[] = [runId, opts.afterStep ?? -1];
    let filter = '';
    if (opts.names?.length) {
      filter = `AND n.name IN (${opts.names.map(() => '?').join(',')})`;
      args.push(...opts.names);
    }
    const rows = this.db
      .prepare(
        `SELECT n.name AS name, m.step AS step, m.value AS value FROM metrics m
         JOIN metric_names n ON n.id = m.name_id
         WHERE m.run_id = ? AND m.step > ? ${filter} ORDER BY n.name, m.step`,
      )
      .raw()
      .all(...args) as [string, number, number | null][];
    const out: Record<string, Series> = {};
    for (const [name, step, value] of rows) {
      const s = (out[name] ??= { steps: [], values: [] });
      s.steps.push(step);
      s.values.push(value);
    }
    return out;
  }

  /** Last value of every metric of a run. */
  last(runId: number): Record<string, number | null> {
    const rows = this.db
      .prepare(
        `SELECT n.name, m.value FROM metrics m JOIN metric_names n ON n.id = m.name_id
         WHERE m.run_id = ? AND m.step = (SELECT MAX(step) FROM metrics m2 WHERE m2.run_id = m.run_id AND m2.name_id = m.name_id)`,
      )
      .raw()
      .all(runId) as [string, number | null][];
    return Object.fromEntries(rows);
  }

  count(runId: number): number {
    return (this.db.prepare(`SELECT COUNT(*) AS c FROM metrics WHERE run_id = ?`).get(runId) as { c: number }).c;
  }

  /** Every row of the given runs in long format, streamed (a sweep can hold millions). */
  *iterateLong(runIds: number[]): Generator<[number, number, string, number | null]> {
    const stmt = this.db
      .prepare(
        `SELECT m.run_id, m.step, n.name, m.value FROM metrics m JOIN metric_names n ON n.id = m.name_id
         WHERE m.run_id = ? ORDER BY m.step, n.name`,
      )
      .raw();
    for (const id of runIds) yield* stmt.iterate(id) as Iterable<[number, number, string, number | null]>;
  }

  private insertSnapshot: Statement<unknown[]> | null = null;
  private pendingSnapshots: [runId: number, name: string, step: number, shape: string, data: Buffer][] = [];

  /**
   * Stores a matrix. Snapshots arriving together (a sweep sends ~10⁴: one per run and eval) are committed together
   * at the end of the current tick, in one transaction instead of one each; reads through this store see them at
   * once. A snapshot whose run is gone by then is dropped; one that fails otherwise is reported on stderr (the
   * write happens after the caller has returned, so it cannot throw to it).
   */
  appendSnapshot(runId: number, step: number, name: string, matrix: number[][]): void {
    const rows = matrix.length;
    const cols = rows ? matrix[0].length : 0;
    const flat = new Float32Array(rows * cols);
    matrix.forEach((row, i) => flat.set(row, i * cols));
    this.pendingSnapshots.push([runId, name, step, JSON.stringify([rows, cols]), Buffer.from(flat.buffer)]);
    if (this.pendingSnapshots.length === 1) queueMicrotask(() => this.flushSnapshots());
  }

  /** Commits the snapshots appendSnapshot is holding (a no-op when there are none). */
  flushSnapshots(): void {
    const pending = this.pendingSnapshots;
    if (!pending.length || !this.db.open) return;
    this.pendingSnapshots = [];
    const stmt = (this.insertSnapshot ??= this.db.prepare(`INSERT OR REPLACE INTO snapshots (run_id, name, step, shape, data) VALUES (?, ?, ?, ?, ?)`));
    try {
      this.db.transaction(() => pending.forEach((r) => stmt.run(...r)))();
    } catch {
      // one bad row (its run deleted meanwhile) must not take the others with it
      for (const r of pending) {
        try {
          stmt.run(...r);
        } catch (err) {
          // the run is gone: nothing to keep the snapshot for. A full disk or read-only file fails the run through
          // its next metrics batch, which says so once; a line per snapshot would bury that. Anything else: stderr.
          if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_FOREIGNKEY' && !isRetryableWriteFailure(err)) {
            console.error(`snapshot ${r[1]} of run ${r[0]} at step ${r[2]} not stored: ${(err as Error).message}`);
          }
        }
      }
    }
  }

  /** Frames of one snapshot series after `afterStep` (all by default), oldest first, as row-major matrices. */
  snapshots(runId: number, name: string, afterStep = -1): { steps: number[]; frames: number[][][] } {
    this.flushSnapshots();
    const rows = this.db
      .prepare(`SELECT step, shape, data FROM snapshots WHERE run_id = ? AND name = ? AND step > ? ORDER BY step`)
      .all(runId, name, afterStep) as { step: number; shape: string; data: Buffer }[];
    const steps: number[] = [];
    const frames: number[][][] = [];
    for (const r of rows) {
      const [h, w] = JSON.parse(r.shape) as [number, number];
      const flat = new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.byteLength));
      steps.push(r.step);
      frames.push(Array.from({ length: h }, (_, i) => Array.from(flat.subarray(i * w, (i + 1) * w))));
    }
    return { steps, frames };
  }
}
