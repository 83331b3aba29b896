import type { Db } from './db';
import type { LogLevel, LogLine, RunDetail, RunKind, RunStatus, RunSummary } from '@shared/runs';

export interface NewRun {
  name: string;
  kind: RunKind;
  config: Record<string, unknown>;
  seed?: number | null;
  sweepId?: number | null;
  tags?: string[];
}

export interface RunQuery {
  kind?: RunKind;
  status?: RunStatus;
  loss?: string;
  tag?: string;
  sweepId?: number;
  search?: string;
  limit?: number;
}

interface RunRow {
  id: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  config: string;
  seed: number | null;
  backend: string | null;
  versions: string | null;
  final: string | null;
  error: string | null;
  tags: string;
  notes: string;
  sweep_id: number | null;
  owner: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

function parseJson<T>(text: string | null): T | null {
  return text == null ? null : (JSON.parse(text) as T);
}

function toSummary(r: RunRow): RunSummary {
  const config = JSON.parse(r.config) as Record<string, unknown>;
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    status: r.status,
    loss: typeof config.loss === 'string' ? config.loss : null,
    config,
    seed: r.seed,
    sweepId: r.sweep_id,
    tags: JSON.parse(r.tags) as string[],
    final: parseJson<Record<string, number>>(r.final),
    error: r.error,
    backend: r.backend,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process, as an owner of runs: its pid plus its start time, so a restart that reuses the pid differs. */
export const THIS_OWNER = `${process.pid}:${Math.round(performance.timeOrigin)}`;

/** Whether the process that owns a run can still be running it. */
export function ownerAlive(owner: string | null): boolean {
  if (!owner) return false;
  if (owner === THIS_OWNER) return true;
  const pid = Number(owner.split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  return isAlive(pid);
}

/** Runs and their lifecycle. Everything is synchronous: better-sqlite3 is, and that keeps ordering obvious. */
export class RunStore {
  constructor(private readonly db: Db) {}

  create(run: NewRun): number {
    const info = this.db
      .prepare(
        `INSERT INTO runs (name, kind, status, config, seed, sweep_id, tags, created_at, owner)
         VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.name, run.kind, JSON.stringify(run.config), run.seed ?? null, run.sweepId ?? null, JSON.stringify(run.tags ?? []), Date.now(), THIS_OWNER);
    return Number(info.lastInsertRowid);
  }

  createMany(runs: NewRun[]): number[] {
    return this.db.transaction(() => runs.map((r) => this.create(r)))();
  }

  markRunning(id: number, info: { backend: string; versions: Record<string, string> }): void {
    this.db
      .prepare(
        `UPDATE runs SET status = 'running', backend = ?, versions = ?, owner = ?, started_at = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
      )
      .run(info.backend, JSON.stringify(info.versions), THIS_OWNER, Date.now(), id);
  }

  /** Moves a run to a terminal status. A run already terminal keeps its first outcome. */
  finish(id: number, status: 'done' | 'failed' | 'cancelled', extra: { final?: object; error?: string } = {}): boolean {
    const info = this.db
      .prepare(
        `UPDATE runs SET status = ?, final = COALESCE(?, final), error = ?, finished_at = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
      )
      .run(status, extra.final ? JSON.stringify(extra.final) : null, extra.error ?? null, Date.now(), id);
    return info.changes > 0;
  }

  /**
   * Runs left 'queued' or 'running' by a process that no longer exists (the app or CLI was killed) are
   * marked failed, so the list never shows a run that will not move again.
   */
  failOrphans(): number[] {
    const rows = this.db.prepare(`SELECT id, owner FROM runs WHERE status IN ('queued', 'running')`).all() as {
      id: number;
      owner: string | null;
    }[];
    const orphans = rows.filter((r) => !ownerAlive(r.owner));
    for (const r of orphans) this.finish(r.id, 'failed', { error: 'interrupted: the process running it exited' });
    return orphans.map((r) => r.id);
  }

  /** A stopped run goes back to the queue (resume): its metrics and log stay, its outcome is cleared. */
  requeue(id: number): boolean {
    const info = this.db
      .prepare(
        `UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL, owner = ?
         WHERE id = ? AND status IN ('failed', 'cancelled')`,
      )
      .run(THIS_OWNER, id);
    return info.changes > 0;
  }

  /** The owner of a run ('<pid>:<start>'), for messages about runs another process is training. */
  ownerOf(id: number): string | null {
    return (this.db.prepare(`SELECT owner FROM runs WHERE id = ?`).get(id) as { owner: string | null } | undefined)?.owner ?? null;
  }

  get(id: number): RunDetail | undefined {
    const r = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    if (!r) return undefined;
    const metricNames = (
      this.db.prepare(`SELECT DISTINCT n.name FROM metrics m JOIN metric_names n ON n.id = m.name_id WHERE m.run_id = ? ORDER BY n.name`).all(id) as {
        name: string;
      }[]
    ).map((x) => x.name);
    const snapshotNames = (this.db.prepare(`SELECT DISTINCT name FROM snapshots WHERE run_id = ? ORDER BY name`).all(id) as { name: string }[]).map(
      (x) => x.name,
    );
    return {
      ...toSummary(r),
      versions: parseJson<Record<string, string>>(r.versions),
      notes: r.notes,
      metricNames,
      snapshotNames,
    };
  }

  list(q: RunQuery = {}): RunSummary[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.kind) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    if (q.status) {
      where.push('status = ?');
      args.push(q.status);
    }
    if (q.loss) {
      where.push(`json_extract(config, '$.loss') = ?`);
      args.push(q.loss);
    }
    if (q.sweepId != null) {
      where.push('sweep_id = ?');
      args.push(q.sweepId);
    }
    if (q.tag) {
      where.push(`EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)`);
      args.push(q.tag);
    }
    if (q.search) {
      // Config values only: every config has the same keys, so matching "seed" or "lr" would match every run.
      where.push(`(name LIKE ? OR notes LIKE ? OR tags LIKE ? OR EXISTS (SELECT 1 FROM json_each(runs.config) WHERE CAST(value AS TEXT) LIKE ?))`);
      const s = `%${q.search}%`;
      args.push(s, s, s, s);
    }
    const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    args.push(q.limit ?? 10_000);
    return (this.db.prepare(sql).all(...args) as RunRow[]).map(toSummary);
  }

  update(id: number, patch: { name?: string; tags?: string[]; notes?: string }): boolean {
    const sets: string[] = [];
    const args: (string | number)[] = [];
    if (patch.name !== undefined) {
      sets.push('name = ?');
      args.push(patch.name);
    }
    if (patch.tags !== undefined) {
      sets.push('tags = ?');
      args.push(JSON.stringify(patch.tags));
    }
    if (patch.notes !== undefined) {
      sets.push('notes = ?');
      args.push(patch.notes);
    }
    if (!sets.length) return this.get(id) !== undefined;
    return this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id).changes > 0;
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id).changes > 0;
  }

  log(id: number, level: LogLevel, text: string, ts = Date.now()): LogLine {
    this.db.prepare(`INSERT INTO run_logs (run_id, ts, level, text) VALUES (?, ?, ?, ?)`).run(id, ts, level, text);
    return { ts, level, text };
  }

  logs(id: number): LogLine[] {
    return this.db.prepare(`SELECT ts, level, text FROM run_logs WHERE run_id = ? ORDER BY ts, rowid`).all(id) as LogLine[];
  }

  statusOf(id: number): RunStatus | undefined {
    const r = this.db.prepare(`SELECT status FROM runs WHERE id = ?`).get(id) as { status: RunStatus } | undefined;
    return r?.status;
  }
}
