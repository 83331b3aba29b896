/**
 * The store's side of experiment bundles: the raw rows a bundle carries (snapshots as stored bytes), writing an
 * imported run with everything it had (status, final metrics, backend, log) under a new id, and the record of
 * which bundle (by content hash) each imported run came from, so a second import of the same file is noticed.
 */
import type { LabStore } from './index';
import type { LogLine, RunKind } from '@shared/runs';

/** Artifact kind marking an imported run; its name is the bundle's content hash. */
const IMPORT_KIND = 'bundle-import';

export interface SnapshotRow {
  name: string;
  step: number;
  shape: [number, number];
  data: Buffer;
}

export function snapshotRows(store: LabStore, runId: number): SnapshotRow[] {
  store.metrics.flushSnapshots();
  const rows = store.db.prepare(`SELECT name, step, shape, data FROM snapshots WHERE run_id = ? ORDER BY name, step`).all(runId) as {
    name: string;
    step: number;
    shape: string;
    data: Buffer;
  }[];
  return rows.map((r) => ({ name: r.name, step: r.step, shape: JSON.parse(r.shape) as [number, number], data: r.data }));
}

export interface ImportedRun {
  name: string;
  kind: RunKind;
  status: 'done' | 'failed' | 'cancelled';
  config: Record<string, unknown>;
  seed: number | null;
  backend: string | null;
  versions: Record<string, string> | null;
  final: Record<string, number> | null;
  error: string | null;
  tags: string[];
  notes: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  metrics: Record<string, { steps: number[]; values: (number | null)[] }>;
  snapshots: SnapshotRow[];
  log: LogLine[];
  /** text artifacts to attach (kind → content), e.g. the synthetic dataset */
  artifacts: { kind: string; name: string; content: string }[];
}

/** Writes one finished run under a new id (no owner: no process is training it). Call inside a transaction. */
export function insertImportedRun(store: LabStore, run: ImportedRun, sweepId: number | null, bundleHash: string): number {
  const id = Number(
    store.db
      .prepare(
        `INSERT INTO runs (name, kind, status, config, seed, backend, versions, final, error, tags, notes, sweep_id, owner, created_at, started_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
      )
      .run(
        run.name,
        run.kind,
        run.status,
        JSON.stringify(run.config),
        run.seed,
        run.backend,
        run.versions ? JSON.stringify(run.versions) : null,
        run.final ? JSON.stringify(run.final) : null,
        run.error,
        JSON.stringify(run.tags),
        run.notes,
        sweepId,
        run.createdAt,
        run.startedAt,
        run.finishedAt,
      ).lastInsertRowid,
  );
  const names = Object.keys(run.metrics);
  const steps: number[] = [];
  const nameIdx: number[] = [];
  const values: number[] = [];
  names.forEach((name, i) => {
    const s = run.metrics[name];
    for (let j = 0; j < s.steps.length; j++) {
      steps.push(s.steps[j]);
      nameIdx.push(i);
      // null (a non-finite value when logged) goes back as NULL, as the metric store writes NaN
      values.push(s.values[j] ?? NaN);
    }
  });
  if (steps.length) store.metrics.append(id, { steps, nameIdx, names, values });
  const snap = store.db.prepare(`INSERT INTO snapshots (run_id, name, step, shape, data) VALUES (?, ?, ?, ?, ?)`);
  for (const s of run.snapshots) snap.run(id, s.name, s.step, JSON.stringify(s.shape), s.data);
  const log = store.db.prepare(`INSERT INTO run_logs (run_id, ts, level, text) VALUES (?, ?, ?, ?)`);
  for (const l of run.log) log.run(id, l.ts, l.level, l.text);
  for (const a of run.artifacts) store.artifacts.put(id, a.kind, a.name, a.content);
  store.artifacts.put(id, IMPORT_KIND, bundleHash, '');
  return id;
}

/** The runs an earlier import of this bundle made (still in the lab), and their sweep; null if none. */
export function findImport(store: LabStore, bundleHash: string): { runIds: number[]; sweepId: number | null } | null {
  const rows = store.db
    .prepare(
      `SELECT r.id AS id, r.sweep_id AS sweepId FROM artifacts a JOIN runs r ON r.id = a.run_id
       WHERE a.kind = ? AND a.name = ? ORDER BY r.id`,
    )
    .all(IMPORT_KIND, bundleHash) as { id: number; sweepId: number | null }[];
  if (!rows.length) return null;
  return { runIds: rows.map((r) => r.id), sweepId: rows.find((r) => r.sweepId != null)?.sweepId ?? null };
}

/** The text artifacts of a run (latest of each kind), to carry in a bundle. */
export function runArtifact(store: LabStore, runId: number, kind: string): string | undefined {
  return store.artifacts.get(runId, kind)?.content;
}

/** Runs carrying an artifact of this kind and name, by id. */
export function runsWithArtifact(store: LabStore, kind: string, name: string): number[] {
  const rows = store.db.prepare(`SELECT run_id AS id FROM artifacts WHERE kind = ? AND name = ? AND run_id IS NOT NULL ORDER BY run_id`).all(kind, name) as {
    id: number;
  }[];
  return rows.map((r) => r.id);
}
