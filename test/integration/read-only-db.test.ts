/**
 * A read-only lab database (a read-only mount as root, as CI runs; chmod 444 elsewhere): reading works, and every
 * write is refused with a message naming the file: HTTP 409 'read_only' from the server, exit 1 in one line from
 * the CLI (a JSON error under --json), never 500 'internal'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { startWebServer } from '../../src-main/server/server';
import { tempDir } from '../unit/tmp';
import { mountTmpfs, remountReadOnly, unmount } from './tmpfs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = tempDir();
const isRoot = process.getuid?.() === 0;
// root writes through chmod 444, so as root the file is made read-only by its mount instead
const dir = path.join(tmp.dir, isRoot ? 'ro-mount' : 'ro-dir');
const cannotMount = isRoot ? mountTmpfs(dir, '8m') : null;
const db = path.join(dir, 'lab.db');

function cli(args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

beforeAll(() => {
  if (cannotMount) return;
  fs.mkdirSync(dir, { recursive: true });
  const made = cli(['run', 'synthetic', '--steps', '20', '--ref-steps', '5', '--eval-every', '10']);
  expect(made.code, made.stderr).toBe(0);
  if (isRoot) remountReadOnly(dir);
  else {
    fs.chmodSync(db, 0o444);
    fs.chmodSync(dir, 0o555);
  }
}, 120_000);
afterAll(() => {
  if (isRoot && !cannotMount) unmount(dir);
  else if (fs.existsSync(dir)) fs.chmodSync(dir, 0o755);
  tmp.cleanup();
});

describe.skipIf(cannotMount)(cannotMount ? `a read-only database (skipped: ${cannotMount})` : 'a read-only database', () => {
  it('the CLI reads it (`runs`), and a write exits 1 with one line naming the file (JSON under --json)', () => {
    const list = cli(['runs', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: 1, status: 'done' })]);

    const write = cli(['run', 'synthetic', '--steps', '10', '--json']);
    expect(write.code).toBe(1);
    expect(write.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: the lab database .*lab\.db is read-only \(.+\)/)]);
    expect(JSON.parse(write.stdout)).toEqual({ ok: false, error: { code: 'read_only', message: expect.stringContaining(db) } });
  });

  it('the server answers writes with 409 read_only naming the file, and reads with 200', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'index.html'), '<!doctype html><title>DPO Lab</title>');
    const lab = createLab({ dbFile: db, mode: 'web', launcher: childWorkerLauncher(), backend: 'cpu' });
    const server = await startWebServer({ service: lab.service, staticDir: tmp.dir, port: 0 });
    const api = async (command: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { ok: boolean; error?: { code: string; message: string } } };
    };
    try {
      expect((await api('runs:list', {})).status).toBe(200);
      for (const [command, body] of [
        ['runs:update', { id: 1, notes: 'a note' }],
        ['runs:delete', { id: 1 }],
        ['runs:start', { kind: 'synthetic', config: { steps: 10 } }],
      ] as const) {
        const res = await api(command, body);
        expect(res.status, command).toBe(409);
        expect(res.body.error, command).toEqual({ code: 'read_only', message: expect.stringMatching(new RegExp(`^the lab database ${db} is read-only`)) });
      }
    } finally {
      await server.close();
      lab.close();
    }
  });
});
