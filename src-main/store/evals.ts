import type { Db } from './db';
import { ownerAlive, THIS_OWNER } from './runs';
import { EvalSettingsSchema, type EvalRecord, type EvalResponseRow, type EvalStatus, type EvalSummary } from '@shared/eval';

interface EvalRow {
  id: number;
  run_id: number | null;
  bench_id: number | null;
  name: string;
  loss: string | null;
  model: string;
  prompts: string;
  reward: string | null;
  cost: string | null;
  reference: string | null;
  samples: number | null;
  settings: string;
  status: EvalStatus;
  error: string | null;
  summary: string | null;
  owner: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export type NewEval = Pick<EvalRecord, 'runId' | 'name' | 'loss' | 'model' | 'prompts' | 'reward' | 'cost' | 'reference' | 'samples' | 'settings'> &
  Partial<Pick<EvalRecord, 'benchId'>>;

function toRecord(r: EvalRow): EvalRecord {
  return {
    id: r.id,
    runId: r.run_id,
    benchId: r.bench_id,
    name: r.name,
    loss: r.loss,
    model: r.model,
    prompts: r.prompts,
    reward: r.reward,
    cost: r.cost,
    reference: r.reference,
    samples: r.samples,
    // defaults fill settings stored before a field existed
    settings: EvalSettingsSchema.parse(JSON.parse(r.settings)),
    status: r.status,
    error: r.error,
    summary: r.summary ? (JSON.parse(r.summary) as EvalSummary) : null,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** Evaluations and their scored responses. A run's evaluations go with it when it is deleted. */
export class EvalStore {
  constructor(private readonly db: Db) {}

  create(e: NewEval): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO evals (run_id, bench_id, name, loss, model, prompts, reward, cost, reference, samples, settings, status, owner, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
        )
        .run(
          e.runId,
          e.benchId ?? null,
          e.name,
          e.loss,
          e.model,
          e.prompts,
          e.reward,
          e.cost,
          e.reference,
          e.samples,
          JSON.stringify(e.settings),
          THIS_OWNER,
          Date.now(),
        ).lastInsertRowid,
    );
  }

  get(id: number): EvalRecord | null {
    const r = this.db.prepare(`SELECT * FROM evals WHERE id = ?`).get(id) as EvalRow | undefined;
    return r ? toRecord(r) : null;
  }

  /** Newest first; only one run's (or one benchmark session's) when runId (benchId) is given. */
  list(q: { runId?: number; benchId?: number } = {}): EvalRecord[] {
    const where: string[] = [];
    const args: number[] = [];
    if (q.runId !== undefined) {
      where.push('run_id = ?');
      args.push(q.runId);
    }
    if (q.benchId !== undefined) {
      where.push('bench_id = ?');
      args.push(q.benchId);
    }
    const sql = `SELECT * FROM evals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    return (this.db.prepare(sql).all(...args) as EvalRow[]).map(toRecord);
  }

  markRunning(id: number): void {
    this.db.prepare(`UPDATE evals SET status = 'running', started_at = ?, owner = ? WHERE id = ?`).run(Date.now(), THIS_OWNER, id);
  }

  /** Stores the outcome; a finished evaluation's responses are written in the same transaction as its summary. */
  finish(id: number, status: 'done' | 'failed' | 'cancelled', o: { error?: string; summary?: EvalSummary; responses?: EvalResponseRow[] } = {}): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO eval_responses (eval_id, idx, prompt, response, reward, cost, ref_response, ref_reward) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of o.responses ?? []) insert.run(id, r.index, r.prompt, r.response, r.reward, r.cost, r.refResponse, r.refReward);
      this.db
        .prepare(`UPDATE evals SET status = ?, error = ?, summary = ?, finished_at = ? WHERE id = ?`)
        .run(status, o.error ?? null, o.summary ? JSON.stringify(o.summary) : null, Date.now(), id);
    })();
  }

  responseCount(id: number): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM eval_responses WHERE eval_id = ?`).get(id) as { n: number }).n;
  }

  responses(id: number, o: { offset?: number; limit?: number } = {}): EvalResponseRow[] {
    const rows = this.db
      .prepare(`SELECT idx, prompt, response, reward, cost, ref_response, ref_reward FROM eval_responses WHERE eval_id = ? ORDER BY idx LIMIT ? OFFSET ?`)
      .all(id, o.limit ?? -1, o.offset ?? 0) as {
      idx: number;
      prompt: string;
      response: string;
      reward: number | null;
      cost: number | null;
      ref_response: string | null;
      ref_reward: number | null;
    }[];
    return rows.map((r) => ({
      index: r.idx,
      prompt: r.prompt,
      response: r.response,
      reward: r.reward,
      cost: r.cost,
      refResponse: r.ref_response,
      refReward: r.ref_reward,
    }));
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM evals WHERE id = ?`).run(id).changes > 0;
  }

  /** Evaluations left queued or running by a process that no longer exists are failed, saying so. */
  failOrphans(): number[] {
    const rows = this.db.prepare(`SELECT id, owner FROM evals WHERE status IN ('queued', 'running')`).all() as { id: number; owner: string | null }[];
    const orphans = rows.filter((r) => !ownerAlive(r.owner));
    for (const r of orphans)
      this.finish(r.id, 'failed', { error: `interrupted: the process that ran it${r.owner ? ` (pid ${r.owner.split(':')[0]})` : ''} exited first` });
    return orphans.map((r) => r.id);
  }
}
