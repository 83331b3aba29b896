import type { Db } from './db';
import { ownerAlive, THIS_OWNER } from './runs';
import { ScorerSettingsSchema, type ScorerKind, type ScorerRecord, type ScorerResult, type ScorerSettings, type ScorerStatus } from '@shared/scorers';

interface ScorerRow {
  id: number;
  kind: ScorerKind;
  model: string;
  data: string;
  out: string;
  settings: string;
  status: ScorerStatus;
  error: string | null;
  result: string | null;
  log: string;
  owner: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface NewScorer {
  kind: ScorerKind;
  model: string;
  data: string;
  out: string;
  settings: ScorerSettings;
}

function toRecord(r: ScorerRow): ScorerRecord {
  return {
    id: r.id,
    kind: r.kind,
    model: r.model,
    data: r.data,
    out: r.out,
    settings: ScorerSettingsSchema.parse(JSON.parse(r.settings)),
    status: r.status,
    error: r.error,
    result: r.result ? (JSON.parse(r.result) as ScorerResult) : null,
    log: JSON.parse(r.log) as string[],
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** A training's log keeps its first lines and its newest ones: a long run must not grow the row without bound. */
const LOG_LINES = 400;

/** Scorer trainings: what was asked, how it went, and the held-out accuracy of the folder written. */
export class ScorerStore {
  constructor(private readonly db: Db) {}

  create(s: NewScorer): number {
    return Number(
      this.db
        .prepare(`INSERT INTO scorers (kind, model, data, out, settings, status, owner, created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)`)
        .run(s.kind, s.model, s.data, s.out, JSON.stringify(s.settings), THIS_OWNER, Date.now()).lastInsertRowid,
    );
  }

  get(id: number): ScorerRecord | null {
    const r = this.db.prepare(`SELECT * FROM scorers WHERE id = ?`).get(id) as ScorerRow | undefined;
    return r ? toRecord(r) : null;
  }

  /** Newest first. */
  list(): ScorerRecord[] {
    return (this.db.prepare(`SELECT * FROM scorers ORDER BY id DESC`).all() as ScorerRow[]).map(toRecord);
  }

  markRunning(id: number): void {
    this.db.prepare(`UPDATE scorers SET status = 'running', started_at = ?, owner = ? WHERE id = ?`).run(Date.now(), THIS_OWNER, id);
  }

  log(id: number, text: string): void {
    const r = this.db.prepare(`SELECT log FROM scorers WHERE id = ?`).get(id) as { log: string } | undefined;
    if (!r) return;
    const lines = [...(JSON.parse(r.log) as string[]), text];
    const kept = lines.length > LOG_LINES ? [...lines.slice(0, 20), ...lines.slice(lines.length - (LOG_LINES - 20))] : lines;
    this.db.prepare(`UPDATE scorers SET log = ? WHERE id = ?`).run(JSON.stringify(kept), id);
  }

  finish(id: number, status: 'done' | 'failed' | 'cancelled', o: { error?: string; result?: ScorerResult } = {}): void {
    this.db
      .prepare(`UPDATE scorers SET status = ?, error = ?, result = ?, finished_at = ? WHERE id = ?`)
      .run(status, o.error ?? null, o.result ? JSON.stringify(o.result) : null, Date.now(), id);
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM scorers WHERE id = ?`).run(id).changes > 0;
  }

  /** Trainings left queued or running by a process that no longer exists are failed, saying so. */
  failOrphans(): number[] {
    const rows = this.db.prepare(`SELECT id, owner FROM scorers WHERE status IN ('queued', 'running')`).all() as { id: number; owner: string | null }[];
    const orphans = rows.filter((r) => !ownerAlive(r.owner));
    for (const r of orphans)
      this.finish(r.id, 'failed', { error: `interrupted: the process that ran it${r.owner ? ` (pid ${r.owner.split(':')[0]})` : ''} exited first` });
    return orphans.map((r) => r.id);
  }
}
