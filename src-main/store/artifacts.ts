import type { Db } from './db';

/** Text artifacts attached to a run, e.g. the synthetic dataset it trained on (so a rerun needs nothing else). */
export class ArtifactStore {
  constructor(private readonly db: Db) {}

  put(runId: number | null, kind: string, name: string, content: string): number {
    return Number(
      this.db.prepare(`INSERT INTO artifacts (run_id, kind, name, content, created_at) VALUES (?, ?, ?, ?, ?)`).run(runId, kind, name, content, Date.now())
        .lastInsertRowid,
    );
  }

  get(runId: number, kind: string): { name: string; content: string } | undefined {
    return this.db.prepare(`SELECT name, content FROM artifacts WHERE run_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`).get(runId, kind) as
      { name: string; content: string } | undefined;
  }
}
