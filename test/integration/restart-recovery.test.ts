/**
 * Starting again after a crash: runs the killed process had queued or was training are settled honestly (queued ones
 * cancelled as never started, the running one failed as interrupted, with a log line saying why); a run whose owner's
 * pid now belongs to another process is not stuck 'running'; a damaged database file is refused with its name and
 * what to do, never a stack trace.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LabStore } from '../../src-main/store';
import { tempDir } from '../unit/tmp';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function cli(db: string, args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function inFile<T>(db: string, read: (conn: Database.Database) => T): T {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return read(conn);
  } finally {
    conn.close();
  }
}
const lastLogLine = (db: string, id: number) =>
  inFile(db, (c) => (c.prepare('SELECT text FROM run_logs WHERE run_id = ? ORDER BY ts DESC, rowid DESC LIMIT 1').get(id) as { text: string }).text);

type Listed = { id: number; status: string; error: string | null };
function listRuns(db: string): Listed[] {
  const res = cli(db, ['runs', '--json']);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Listed[];
}

/** Field 22 of /proc/<pid>/stat (start time in ticks since boot), read here independently of the lab's code. */
function startTicks(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

describe('restart after a crash', () => {
  it('a killed server: its queued run is cancelled as never started, its running run failed as interrupted, each log says why', async () => {
    const db = tmp.file('killed-server.db');
    const server = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', 'serve', '--port', '0'], { cwd: ROOT });
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      server.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]);
      });
      server.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    const { origin, searchParams } = new URL(url);
    const api = async (command: string, body: unknown) => {
      const res = await fetch(`${origin}/api/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${searchParams.get('token')}` },
        body: JSON.stringify(body),
      });
      return ((await res.json()) as { value: unknown }).value;
    };
    const long = { kind: 'synthetic', config: { steps: 1_000_000, refSteps: 0, evalEvery: 1000 } };
    const [training] = ((await api('runs:start', long)) as { runIds: number[] }).runIds;
    const [waiting] = ((await api('runs:start', long)) as { runIds: number[] }).runIds;
    await until('the first run to commit metrics', () =>
      inFile(db, (c) => (c.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?').get(training) as { n: number }).n > 0),
    );
    expect(((await api('runs:get', { id: waiting })) as { status: string }).status).toBe('queued');
    const exited = new Promise((r) => server.on('exit', r));
    server.kill('SIGKILL');
    await exited;

    const runs = listRuns(db);
    expect(runs.find((r) => r.id === waiting)).toMatchObject({
      status: 'cancelled',
      error: expect.stringMatching(/^never started: the process that queued it \(pid \d+\) exited before it began training/),
    });
    expect(runs.find((r) => r.id === training)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^interrupted: the process that was running it \(pid \d+\) exited before the run finished/),
    });
    expect(lastLogLine(db, training)).toMatch(/^interrupted: .*; metrics up to step \d+ are kept$/);
    expect(lastLogLine(db, waiting)).toMatch(/^cancelled: never started/);
  });

  it.skipIf(process.platform !== 'linux')('a run whose owner pid now belongs to another process is settled, not stuck; the live owner keeps its run', () => {
    const db = tmp.file('pid-reuse.db');
    const store = LabStore.open(db);
    const cfg = { loss: 'dpo' };
    const reused = store.runs.create({ name: 'owner gone, pid reused', kind: 'synthetic', config: cfg });
    const live = store.runs.create({ name: 'owner alive', kind: 'synthetic', config: cfg });
    store.close();
    // a real, live process standing in for "whatever now has the old owner's pid"
    const other = spawn('sleep', ['600']);
    try {
      const pid = other.pid!;
      const ticks = startTicks(pid);
      const setRunning = (id: number, owner: string) =>
        inFileWritable(db, (c) => c.prepare(`UPDATE runs SET status = 'running', started_at = ?, owner = ? WHERE id = ?`).run(Date.now(), owner, id));
      setRunning(reused, `${pid}:${Date.now() - 3_600_000}:${Number(ticks) - 1}`); // same pid, started at another time
      setRunning(live, `${pid}:${Date.now()}:${ticks}`);
      const runs = listRuns(db);
      expect(runs.find((r) => r.id === reused)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted/) });
      expect(runs.find((r) => r.id === live)?.status).toBe('running');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a damaged database file is refused at start with its name and what to do (exit 1, one line, JSON under --json)', () => {
    const db = tmp.file('damaged.db');
    const store = LabStore.open(db);
    const id = store.runs.create({ name: 'big', kind: 'synthetic', config: { loss: 'dpo' } });
    const n = 90_000;
    store.metrics.append(id, {
      steps: Array.from({ length: n }, (_, i) => Math.floor(i / 3)),
      nameIdx: Array.from({ length: n }, (_, i) => i % 3),
      names: ['loss', 'margin', 'acc'],
      values: Array.from({ length: n }, (_, i) => Math.sin(i)),
    });
    store.close();
    // a page in the middle of the metrics b-tree overwritten, as a bad sector or a torn copy leaves it
    const size = fs.statSync(db).size;
    const fd = fs.openSync(db, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0x41), 0, 4096, Math.floor(size / 2 / 4096) * 4096);
    fs.closeSync(fd);

    const res = cli(db, ['runs']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: the lab database .*damaged\.db is damaged \(.*\); move it aside.*\.recover/),
    ]);
    const json = cli(db, ['runs', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'damaged', message: expect.stringContaining(db) } });

    const notADb = tmp.file('notes.txt');
    fs.writeFileSync(notADb, 'these are my notes, not a database\n'.repeat(200));
    const wrong = cli(notADb, ['runs']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: .*notes\.txt is not a DPO Lab database .*pass --db/)]);
  });
});

function inFileWritable(db: string, write: (conn: Database.Database) => unknown): void {
  const conn = new Database(db, { fileMustExist: true });
  try {
    write(conn);
  } finally {
    conn.close();
  }
}
