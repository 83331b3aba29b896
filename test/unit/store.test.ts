import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { LabStore } from '../../src-main/store';
import { THIS_OWNER } from '../../src-main/store/runs';
import { migrate, openDb, schemaVersion } from '../../src-main/store/db';
import { MIGRATIONS } from '../../src-main/store/migrations';
import { metricsCsv, tableCsv, writeMetricsCsv } from '../../src-main/store/export';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const cfg = { loss: 'dpo', seed: 3, steps: 10 };

describe('migrations', () => {
  it('bring a new file to the latest version, WAL on, and are idempotent', () => {
    const file = tmp.file('m.db');
    const db = openDb(file);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(migrate(db)).toBe(0);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]).map((t) => t.name);
    for (const t of ['runs', 'metrics', 'snapshots', 'sweeps', 'artifacts', 'run_logs']) expect(tables).toContain(t);
    db.close();
  });

  it('refuses a database from a newer app instead of corrupting it', () => {
    const file = tmp.file('future.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    raw.close();
    expect(() => openDb(file)).toThrow(/newer than this DPO Lab/);
  });
});

describe('runs, metrics, snapshots', () => {
  const store = LabStore.open(tmp.file('lab.db'));
  afterAll(() => store.close());

  it('walks a run through its lifecycle and keeps the first terminal outcome', () => {
    const id = store.runs.create({ name: 'r', kind: 'synthetic', config: cfg, seed: 3, tags: ['a'] });
    expect(store.runs.get(id)?.status).toBe('queued');
    store.runs.markRunning(id, { backend: 'cpu', versions: { tfjs: 'x' } });
    expect(store.runs.get(id)).toMatchObject({ status: 'running', backend: 'cpu', loss: 'dpo', seed: 3, tags: ['a'] });
    expect(store.runs.finish(id, 'done', { final: { expectedUtility: 4.2 } })).toBe(true);
    expect(store.runs.finish(id, 'failed', { error: 'late' })).toBe(false);
    const r = store.runs.get(id)!;
    expect(r.status).toBe('done');
    expect(r.final).toEqual({ expectedUtility: 4.2 });
    expect(r.error).toBeNull();
    expect(r.config).toEqual(cfg);
  });

  it('stores metric batches, reads series back in step order, keeps non-finite values as null', () => {
    const id = store.runs.create({ name: 'm', kind: 'synthetic', config: cfg });
    store.metrics.append(id, { steps: [2, 1, 1, 2], nameIdx: [0, 0, 1, 1], names: ['loss', 'rewards/margins'], values: [0.5, 0.7, 0.1, NaN] });
    const s = store.metrics.series(id);
    expect(s.loss).toEqual({ steps: [1, 2], values: [0.7, 0.5] });
    expect(s['rewards/margins']).toEqual({ steps: [1, 2], values: [0.1, null] });
    expect(store.metrics.series(id, { names: ['loss'], afterStep: 1 })).toEqual({ loss: { steps: [2], values: [0.5] } });
    expect(store.metrics.count(id)).toBe(4);
    expect(store.runs.get(id)!.metricNames).toEqual(['loss', 'rewards/margins']);
  });

  it('round-trips K×K snapshots', () => {
    const id = store.runs.create({ name: 's', kind: 'synthetic', config: cfg });
    const m1 = [
      [0.25, 0.75],
      [0.5, 0.5],
    ];
    store.metrics.appendSnapshot(id, 10, 'probs', m1);
    store.metrics.appendSnapshot(id, 0, 'probs', [
      [1, 0],
      [0, 1],
    ]);
    const snaps = store.metrics.snapshots(id, 'probs');
    expect(snaps.steps).toEqual([0, 10]);
    expect(snaps.frames[1]).toEqual(m1);
  });

  it('lists with filters and search, updates tags and notes, deletes with cascade', () => {
    const a = store.runs.create({ name: 'alpha bdpo', kind: 'synthetic', config: { loss: 'bdpo' }, tags: ['keep'] });
    store.metrics.append(a, { steps: [1], nameIdx: [0], names: ['loss'], values: [1] });
    expect(store.runs.list({ loss: 'bdpo' }).map((r) => r.id)).toEqual([a]);
    expect(store.runs.list({ tag: 'keep' }).map((r) => r.id)).toEqual([a]);
    expect(store.runs.list({ search: 'alpha' }).map((r) => r.id)).toEqual([a]);
    // Search looks at config values, not keys: "loss" is a key of every config.
    expect(store.runs.list({ search: 'bdpo' }).map((r) => r.id)).toEqual([a]);
    expect(store.runs.list({ search: 'loss' }).map((r) => r.id)).toEqual([]);
    store.runs.update(a, { notes: 'looks balanced', tags: ['x', 'y'] });
    expect(store.runs.get(a)).toMatchObject({ notes: 'looks balanced', tags: ['x', 'y'] });
    expect(store.runs.delete(a)).toBe(true);
    expect(store.runs.get(a)).toBeUndefined();
    expect(store.metrics.count(a)).toBe(0);
  });

  it('marks runs orphaned by a dead process (or by an earlier process with our pid) as failed, leaves live owners alone', () => {
    const setOwner = (id: number, owner: string) => store.db.prepare(`UPDATE runs SET owner = ? WHERE id = ?`).run(owner, id);
    const dead = store.runs.create({ name: 'dead', kind: 'synthetic', config: cfg });
    store.runs.markRunning(dead, { backend: 'cpu', versions: {} });
    setOwner(dead, `${2 ** 22 + 12345}:1`);
    // A container restart gives the new server the old pid: same pid, other start time = not us.
    const samePid = store.runs.create({ name: 'same pid', kind: 'synthetic', config: cfg });
    setOwner(samePid, `${process.pid}:1`);
    const parent = store.runs.create({ name: 'live other process', kind: 'synthetic', config: cfg });
    setOwner(parent, `${process.ppid}:1`);
    const mine = store.runs.create({ name: 'mine', kind: 'synthetic', config: cfg });
    store.runs.markRunning(mine, { backend: 'cpu', versions: {} });
    expect(store.runs.ownerOf(mine)).toBe(THIS_OWNER);
    const failed = store.runs.failOrphans();
    expect(failed).toEqual(expect.arrayContaining([dead, samePid]));
    expect(failed).not.toContain(mine);
    expect(failed).not.toContain(parent);
    expect(store.runs.get(dead)).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
    expect(store.runs.get(mine)!.status).toBe('running');
  });

  it('survives reopening: what was committed is there after a restart', () => {
    const file = tmp.file('reopen.db');
    const s1 = LabStore.open(file);
    const id = s1.runs.create({ name: 'persist', kind: 'synthetic', config: cfg });
    s1.metrics.append(id, { steps: [1, 2, 3], nameIdx: [0, 0, 0], names: ['loss'], values: [3, 2, 1] });
    s1.close();
    const s2 = LabStore.open(file);
    expect(s2.runs.get(id)!.name).toBe('persist');
    expect(s2.metrics.series(id).loss.values).toEqual([3, 2, 1]);
    s2.close();
  });
});

describe('CSV export', () => {
  const store = LabStore.open(tmp.file('csv.db'));
  afterAll(() => store.close());

  it('writes long format with a header, parseable back to the same rows, as a string and as a file', async () => {
    const a = store.runs.create({ name: 'a', kind: 'synthetic', config: cfg });
    const b = store.runs.create({ name: 'b', kind: 'synthetic', config: cfg });
    store.metrics.append(a, { steps: [1, 1, 2], nameIdx: [0, 1, 0], names: ['loss', 'rewards/margins'], values: [0.69, 0.01, 0.6] });
    store.metrics.append(b, { steps: [1], nameIdx: [0], names: ['loss'], values: [0.5] });
    const csv = metricsCsv(store.metrics, [a, b]);
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['run_id', 'step', 'name', 'value']);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({ run_id: String(a), step: '1', name: 'loss', value: '0.69' });
    expect(rows[3]).toEqual({ run_id: String(b), step: '1', name: 'loss', value: '0.5' });
    const out = tmp.file('out.csv');
    expect(await writeMetricsCsv(store.metrics, [a, b], out)).toBe(4);
    expect(fs.readFileSync(out, 'utf8')).toBe(csv);
  });

  it('quotes per RFC 4180', () => {
    const csv = tableCsv(
      ['name', 'note'],
      [
        ['a, "b"', 'line1\nline2'],
        ['plain', null],
      ],
    );
    expect(csv).toBe('name,note\n"a, ""b""","line1\nline2"\nplain,\n');
  });
});
