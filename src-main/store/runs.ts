import fs from 'node:fs';
import type { Db } from './db';
import { isRetryableWriteFailure } from './failures';
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

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where there is no
 * /proc. Unlike a pid, it tells a process from a later one that was given the same pid.
 */
export function processStartTicks(pid: number | 'self'): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses; the fields after its closing ')' do not
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[22 - 3] ?? null;
  } catch {
    return null;
  }
}

/**
 * This process, as an owner of runs: '<pid>:<start ms>[:<start ticks>]'. The pid alone is not enough: after a
 * crash and a reboot (or a long uptime) the pid is given to another process, and a `running` row must not stay
 * stuck because something unrelated happens to hold that number.
 */
export const THIS_OWNER = [process.pid, Math.round(performance.timeOrigin), processStartTicks('self')].filter((x) => x !== null).join(':');

/** Whether the process that owns a run can still be running it. */
export function ownerAlive(owner: string | null): boolean {
  if (!owner) return false;
  if (owner === THIS_OWNER) return true;
  const [pidText, , ticks] = owner.split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  if (!isAlive(pid)) return false;
  // a live process with that pid: the owner only if it started when the owner did (where that can be known)
  const liveTicks = ticks === undefined ? null : processStartTicks(pid);
  return liveTicks === null || liveTicks === ticks;
}

/** A terminal outcome or a log line that could not be written yet (full disk, read-only file): kept until it can. */
interface UnsavedOutcome {
  status: 'done' | 'failed' | 'cancelled';
  final: string | null;
  error: string | null;
  finishedAt: number;
}
interface UnsavedLog extends LogLine {
  runId: number;
}

/** How often outcomes held in memory are retried (space may have been freed meanwhile). */
const RETRY_MS = 2000;

/** Runs and their lifecycle. Everything is synchronous: better-sqlite3 is, and that keeps ordering obvious. */
export class RunStore {
  private readonly unsaved = new Map<number, UnsavedOutcome>();
  private readonly unsavedLogs: UnsavedLog[] = [];
  private retryTimer: NodeJS.Timeout | null = null;

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

  /**
   * Moves a run to a terminal status. A run already terminal keeps its first outcome. When the disk is full or the
   * file read-only, the outcome is kept in memory (reads here see it) and written as soon as a retry succeeds, so
   * the failure of a run's last write never turns into a crash of the process recording it.
   */
  finish(id: number, status: 'done' | 'failed' | 'cancelled', extra: { final?: object; error?: string } = {}): boolean {
    if (this.unsaved.has(id)) return false;
    const outcome: UnsavedOutcome = { status, final: extra.final ? JSON.stringify(extra.final) : null, error: extra.error ?? null, finishedAt: Date.now() };
    try {
      return this.writeOutcome(id, outcome);
    } catch (err) {
      if (!isRetryableWriteFailure(err)) throw err;
      const now = this.statusOf(id);
      if (now !== 'queued' && now !== 'running') return false;
      this.unsaved.set(id, outcome);
      this.scheduleRetry();
      return true;
    }
  }

  private writeOutcome(id: number, o: UnsavedOutcome): boolean {
    const info = this.db
      .prepare(
        `UPDATE runs SET status = ?, final = COALESCE(?, final), error = ?, finished_at = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
      )
      .run(o.status, o.final, o.error, o.finishedAt, id);
    return info.changes > 0;
  }

  /** Runs whose outcome is held in memory because it could not be written yet. */
  unsavedRunIds(): number[] {
    return [...this.unsaved.keys()];
  }

  /**
   * Writes the outcomes and log lines held in memory, in one transaction; true when nothing is left unsaved.
   * Called on a timer while any are held, and when the store closes.
   */
  flushUnsaved(): boolean {
    if (!this.unsaved.size && !this.unsavedLogs.length) return true;
    if (!this.db.open) return false;
    try {
      this.db.transaction(() => {
        for (const [id, o] of this.unsaved) this.writeOutcome(id, o);
        // a run deleted meanwhile has no log to add to
        const insert = this.db.prepare(`INSERT INTO run_logs (run_id, ts, level, text) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?)`);
        for (const l of this.unsavedLogs) insert.run(l.runId, l.ts, l.level, l.text, l.runId);
      })();
    } catch (err) {
      if (isRetryableWriteFailure(err)) return false;
      throw err;
    }
    this.unsaved.clear();
    this.unsavedLogs.length = 0;
    this.stopRetry();
    return true;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => {
      try {
        this.flushUnsaved();
      } catch (err) {
        // not a write that can succeed later: say so once and stop trying
        this.stopRetry();
        console.error(`could not save the outcome of run(s) ${this.unsavedRunIds().join(', ')}: ${(err as Error).message}`);
      }
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  stopRetry(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  /**
   * After a crash (the app, server or CLI was killed): runs left 'queued' or 'running' by a process that no longer
   * exists are settled so the list never shows a run that will not move again. A run that never started is
   * cancelled, saying so (it can be started again; nothing of it was lost); one that was training is failed as
   * interrupted, with a line in its log saying why and how far it got.
   */
  failOrphans(): number[] {
    const rows = this.db.prepare(`SELECT id, owner, status, started_at FROM runs WHERE status IN ('queued', 'running')`).all() as {
      id: number;
      owner: string | null;
      status: 'queued' | 'running';
      started_at: number | null;
    }[];
    const orphans = rows.filter((r) => !this.unsaved.has(r.id) && !ownerAlive(r.owner));
    const lastStep = this.db.prepare(`SELECT MAX(step) AS step FROM metrics WHERE run_id = ?`);
    for (const r of orphans) {
      const who = r.owner ? `the process that ${r.started_at == null ? 'queued' : 'was running'} it (pid ${r.owner.split(':')[0]})` : 'its process';
      if (r.started_at == null && r.status === 'queued') {
        const why = `never started: ${who} exited before it began training`;
        this.finish(r.id, 'cancelled', { error: why });
        this.log(r.id, 'warn', `cancelled: ${why}`);
      } else {
        const step = (lastStep.get(r.id) as { step: number | null }).step;
        const why = `interrupted: ${who} exited before the run finished`;
        this.finish(r.id, 'failed', { error: why });
        this.log(r.id, 'error', `${why}; ${step == null ? 'no metrics were recorded' : `metrics up to step ${step} are kept`}`);
      }
    }
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
    const stored = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    if (!stored) return undefined;
    const r = this.withUnsaved(stored);
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
    // a status held in memory (not yet written) must match too: filter after the overlay then
    const statusInSql = q.status && !this.unsaved.size;
    if (q.status && statusInSql) {
      where.push('status = ?');
      args.push(q.status);
    }
    if (q.loss) {
      // a built-in by name, or a custom (formula) loss by its own name
      where.push(`(json_extract(config, '$.loss') = ? OR (json_extract(config, '$.loss') = 'custom' AND json_extract(config, '$.customLoss.name') = ?))`);
      args.push(q.loss, q.loss);
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
    const rows = (this.db.prepare(sql).all(...args) as RunRow[]).map((r) => this.withUnsaved(r));
    return (statusInSql || !q.status ? rows : rows.filter((r) => r.status === q.status)).map(toSummary);
  }

  /** A row as it will be once its outcome held in memory is written. */
  private withUnsaved(r: RunRow): RunRow {
    const o = this.unsaved.get(r.id);
    return o ? { ...r, status: o.status, final: o.final ?? r.final, error: o.error, finished_at: o.finishedAt } : r;
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

  /** Appends a line to a run's log; on a full disk or read-only file it is held in memory with the run's outcome. */
  log(id: number, level: LogLevel, text: string, ts = Date.now()): LogLine {
    const line = { ts, level, text };
    try {
      this.insertLog(id, line);
    } catch (err) {
      if (!isRetryableWriteFailure(err)) throw err;
      this.unsavedLogs.push({ runId: id, ...line });
      this.scheduleRetry();
    }
    return line;
  }

  private insertLog(id: number, l: LogLine): void {
    this.db.prepare(`INSERT INTO run_logs (run_id, ts, level, text) VALUES (?, ?, ?, ?)`).run(id, l.ts, l.level, l.text);
  }

  logs(id: number): LogLine[] {
    const stored = this.db.prepare(`SELECT ts, level, text FROM run_logs WHERE run_id = ? ORDER BY ts, rowid`).all(id) as LogLine[];
    const held = this.unsavedLogs.filter((l) => l.runId === id).map(({ ts, level, text }) => ({ ts, level, text }));
    return held.length ? [...stored, ...held] : stored;
  }

  statusOf(id: number): RunStatus | undefined {
    const held = this.unsaved.get(id);
    if (held) return held.status;
    const r = this.db.prepare(`SELECT status FROM runs WHERE id = ?`).get(id) as { status: RunStatus } | undefined;
    return r?.status;
  }
}
