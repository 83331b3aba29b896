import type { Db } from './db';
import { ownerAlive, THIS_OWNER } from './runs';
import { BenchStartSchema, type BenchProgress, type BenchRecord, type BenchResult, type BenchStart, type BenchStatus } from '@shared/bench';

interface BenchRow {
  id: number;
  name: string;
  settings: string;
  work_dir: string;
  status: BenchStatus;
  error: string | null;
  progress: string | null;
  result: string | null;
  log: string;
  owner: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

function toRecord(r: BenchRow): BenchRecord {
  return {
    id: r.id,
    name: r.name,
    settings: BenchStartSchema.parse(JSON.parse(r.settings)),
    workDir: r.work_dir,
    status: r.status,
    error: r.error,
    progress: r.progress ? (JSON.parse(r.progress) as BenchProgress) : null,
    result: r.result ? (JSON.parse(r.result) as BenchResult) : null,
    log: JSON.parse(r.log) as string[],
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** A session's log keeps its first lines and its newest ones (many seeds must not grow the row without bound). */
const LOG_LINES = 400;

/** Benchmark sessions: what was asked, where it is, its grid. Its evaluations (evals.bench_id) go with it. */
export class BenchStore {
  constructor(private readonly db: Db) {}

  create(b: { name: string; settings: BenchStart; workDir: string }): number {
    return Number(
      this.db
        .prepare(`INSERT INTO benches (name, settings, work_dir, status, owner, created_at) VALUES (?, ?, ?, 'queued', ?, ?)`)
        .run(b.name, JSON.stringify(b.settings), b.workDir, THIS_OWNER, Date.now()).lastInsertRowid,
    );
  }

  get(id: number): BenchRecord | null {
    const r = this.db.prepare(`SELECT * FROM benches WHERE id = ?`).get(id) as BenchRow | undefined;
    return r ? toRecord(r) : null;
  }

  /** Newest first. */
  list(): BenchRecord[] {
    return (this.db.prepare(`SELECT * FROM benches ORDER BY id DESC`).all() as BenchRow[]).map(toRecord);
  }

  markRunning(id: number): void {
    this.db.prepare(`UPDATE benches SET status = 'running', started_at = ?, owner = ? WHERE id = ?`).run(Date.now(), THIS_OWNER, id);
  }

  setWorkDir(id: number, dir: string): void {
    this.db.prepare(`UPDATE benches SET work_dir = ? WHERE id = ?`).run(dir, id);
  }

  setProgress(id: number, p: BenchProgress): void {
    this.db.prepare(`UPDATE benches SET progress = ? WHERE id = ?`).run(JSON.stringify(p), id);
  }

  log(id: number, text: string): void {
    const r = this.db.prepare(`SELECT log FROM benches WHERE id = ?`).get(id) as { log: string } | undefined;
    if (!r) return;
    const lines = [...(JSON.parse(r.log) as string[]), text];
    const kept = lines.length > LOG_LINES ? [...lines.slice(0, 20), ...lines.slice(lines.length - (LOG_LINES - 20))] : lines;
    this.db.prepare(`UPDATE benches SET log = ? WHERE id = ?`).run(JSON.stringify(kept), id);
  }

  finish(id: number, status: 'done' | 'failed' | 'cancelled', o: { error?: string; result?: BenchResult } = {}): void {
    this.db
      .prepare(`UPDATE benches SET status = ?, error = ?, result = ?, finished_at = ? WHERE id = ?`)
      .run(status, o.error ?? null, o.result ? JSON.stringify(o.result) : null, Date.now(), id);
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM benches WHERE id = ?`).run(id).changes > 0;
  }

  /** Sessions left queued or running by a process that no longer exists are failed, saying so. */
  failOrphans(): number[] {
    const rows = this.db.prepare(`SELECT id, owner FROM benches WHERE status IN ('queued', 'running')`).all() as { id: number; owner: string | null }[];
    const orphans = rows.filter((r) => !ownerAlive(r.owner));
    for (const r of orphans)
      this.finish(r.id, 'failed', { error: `interrupted: the process that ran it${r.owner ? ` (pid ${r.owner.split(':')[0]})` : ''} exited first` });
    return orphans.map((r) => r.id);
  }
}
