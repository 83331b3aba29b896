/**
 * The lab's database on a full disk (an 8 MB tmpfs, filled while a run trains): the process stays up, the run ends
 * failed with "disk full", every committed row is kept, the CLI says so in one line (JSON under --json), reading
 * commands still work, and the outcome held in memory is written once space returns.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { startWebServer } from '../../src-main/server/server';
import { tempDir } from '../unit/tmp';
import { fillDisk, mountTmpfs, unmount } from './tmpfs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = tempDir();
const disk = path.join(tmp.dir, 'disk');
const cannotMount = mountTmpfs(disk, '8m');
afterAll(() => {
  if (!cannotMount) unmount(disk);
  tmp.cleanup();
});

function cli(db: string, args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

async function until(what: string, cond: () => boolean, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the file itself holds, read through a connection of the test's own (never through the lab under test). */
function inFile<T>(db: string, read: (conn: Database.Database) => T): T {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return read(conn);
  } finally {
    conn.close();
  }
}
const metricRows = (db: string) => inFile(db, (c) => (c.prepare('SELECT COUNT(*) AS n FROM metrics').get() as { n: number }).n);
const runRow = (db: string, id: number) =>
  inFile(db, (c) => c.prepare('SELECT status, error FROM runs WHERE id = ?').get(id) as { status: string; error: string | null } | undefined);

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at |SqliteError/);
const LONG_RUN = ['run', 'synthetic', '--steps', '1000000', '--ref-steps', '0', '--eval-every', '1000'];

describe.skipIf(cannotMount)(cannotMount ? `a full disk (skipped: ${cannotMount})` : 'a full disk (8 MB tmpfs)', () => {
  it('the CLI: a run that fills the disk ends failed "disk full", exit 1 in one line; `runs` still works; committed rows are kept', async () => {
    const db = path.join(disk, 'cli.db');
    const filler = path.join(disk, 'filler-cli');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', ...LONG_RUN, '--json'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    const committedSoFar = () => {
      try {
        return metricRows(db);
      } catch {
        return 0; // the file or its schema is not there yet
      }
    };
    await until('the run to commit metrics', () => exitedEarly || committedSoFar() >= 500);
    expect(exitedEarly, stderr).toBe(false);
    const committed = metricRows(db);
    fillDisk(filler);

    expect(await exited).toBe(1);
    noStackTrace(stderr);
    const out = JSON.parse(stdout) as { runId: number; status: string; error: string };
    expect(out).toMatchObject({ status: 'failed', error: expect.stringMatching(/^disk full: cannot write to the lab database .*cli\.db/) });

    // reading needs no space: `runs` lists the run (settled, not 'running') while the disk is still full
    const list = cli(db, ['runs', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const runs = JSON.parse(list.stdout) as { id: number; status: string }[];
    expect(runs.find((r) => r.id === out.runId)?.status).toMatch(/^(failed|cancelled)$/);
    expect(metricRows(db)).toBeGreaterThanOrEqual(committed);

    // a command that must write: exit 1, one line, and a JSON error on stdout under --json
    const again = cli(db, ['run', 'synthetic', '--steps', '10', '--json']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: disk full: .*cli\.db/)]);
    expect(JSON.parse(again.stdout)).toEqual({ ok: false, error: { code: 'disk_full', message: expect.stringContaining(db) } });

    // space returns: the next start settles the run in the file
    fs.rmSync(filler);
    expect(cli(db, ['runs']).code).toBe(0);
    expect(runRow(db, out.runId)?.status).toMatch(/^(failed|cancelled)$/);
    expect(metricRows(db)).toBeGreaterThanOrEqual(committed);
  });

  it('the server stays up: the run fails "disk full" (HTTP 507 for new writes) and its outcome is written once space returns', async () => {
    const db = path.join(disk, 'web.db');
    const filler = path.join(disk, 'filler-web');
    fs.writeFileSync(path.join(tmp.dir, 'index.html'), '<!doctype html><title>DPO Lab</title>');
    const lab = createLab({ dbFile: db, mode: 'web', launcher: childWorkerLauncher(), backend: 'cpu' });
    const server = await startWebServer({ service: lab.service, staticDir: tmp.dir, port: 0 });
    const api = async (command: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { ok: boolean; value?: unknown; error?: { code: string; message: string } } };
    };
    try {
      const started = await api('runs:start', { kind: 'synthetic', config: { steps: 1_000_000, refSteps: 0, evalEvery: 1000 } });
      expect(started.status).toBe(200);
      const runId = (started.body.value as { runIds: number[] }).runIds[0];
      await until('the run to commit metrics', () => lab.store.metrics.count(runId) >= 500);
      const committed = metricRows(db);
      fillDisk(filler);
      await until('the run to fail', () => lab.store.runs.statusOf(runId) === 'failed');

      const run = await api('runs:get', { id: runId });
      expect(run.status).toBe(200);
      expect(run.body.value).toMatchObject({ status: 'failed', error: expect.stringMatching(/^disk full: .*web\.db/) });
      const log = (await api('runs:log', { id: runId })).body.value as { lines: { text: string }[] };
      expect(log.lines.at(-1)?.text).toMatch(/^failed after [\d.]+ s: disk full/);
      const refused = await api('runs:start', { kind: 'synthetic', config: { steps: 10 } });
      expect(refused.status).toBe(507);
      expect(refused.body.error).toEqual({ code: 'disk_full', message: expect.stringContaining(db) });
      expect((await api('app:info', {})).status).toBe(200);
      expect(runRow(db, runId)?.status).toBe('running'); // not written yet: the disk is full
      expect(metricRows(db)).toBeGreaterThanOrEqual(committed);

      fs.rmSync(filler);
      await until('the held outcome to be written', () => runRow(db, runId)?.status === 'failed');
      expect(runRow(db, runId)?.error).toMatch(/^disk full/);
      const logged = inFile(db, (c) => c.prepare('SELECT text FROM run_logs WHERE run_id = ? ORDER BY rowid DESC LIMIT 1').get(runId) as { text: string });
      expect(logged.text).toMatch(/^failed after [\d.]+ s: disk full/);
      // and the lab writes again
      expect((await api('runs:start', { kind: 'synthetic', config: { steps: 10, refSteps: 5 } })).status).toBe(200);
      await lab.manager.idle();
    } finally {
      await server.close();
      lab.close();
    }
  });
});
