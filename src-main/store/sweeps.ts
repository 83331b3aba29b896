import type { Db } from './db';
import type { SweepRecord } from '@shared/runs';

interface SweepRow {
  id: number;
  name: string;
  preset: string | null;
  config: string;
  status: SweepRecord['status'];
  summary: string | null;
  created_at: number;
  finished_at: number | null;
}

export class SweepStore {
  constructor(private readonly db: Db) {}

  create(name: string, preset: string | null, config: object): number {
    return Number(
      this.db
        .prepare(`INSERT INTO sweeps (name, preset, config, status, created_at) VALUES (?, ?, ?, 'running', ?)`)
        .run(name, preset, JSON.stringify(config), Date.now()).lastInsertRowid,
    );
  }

  finish(id: number, status: SweepRecord['status'], summary: unknown): void {
    this.db.prepare(`UPDATE sweeps SET status = ?, summary = ?, finished_at = ? WHERE id = ?`).run(status, JSON.stringify(summary ?? null), Date.now(), id);
  }

  private toRecord(r: SweepRow): SweepRecord {
    const runIds = (this.db.prepare(`SELECT id FROM runs WHERE sweep_id = ? ORDER BY id`).all(r.id) as { id: number }[]).map((x) => x.id);
    return {
      id: r.id,
      name: r.name,
      preset: r.preset,
      config: JSON.parse(r.config) as Record<string, unknown>,
      status: r.status,
      summary: r.summary == null ? null : (JSON.parse(r.summary) as unknown),
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      runIds,
    };
  }

  get(id: number): SweepRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM sweeps WHERE id = ?`).get(id) as SweepRow | undefined;
    return r && this.toRecord(r);
  }

  list(): SweepRecord[] {
    return (this.db.prepare(`SELECT * FROM sweeps ORDER BY id DESC`).all() as SweepRow[]).map((r) => this.toRecord(r));
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM sweeps WHERE id = ?`).run(id).changes > 0;
  }
}
