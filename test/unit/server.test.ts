import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createLab, type Lab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { startWebServer, type WebServer } from '../../src-main/server/server';
import { tempDir } from './tmp';

const tmp = tempDir();
let lab: Lab;
let server: WebServer;
let base: string;

beforeAll(async () => {
  fs.writeFileSync(tmp.file('index.html'), '<!doctype html><title>DPO Lab</title>');
  lab = createLab({ dbFile: tmp.file('lab.db'), mode: 'web', launcher: childWorkerLauncher(), backend: 'cpu' });
  server = await startWebServer({ service: lab.service, staticDir: tmp.dir, port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
  lab.close();
  tmp.cleanup();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('web server auth', () => {
  it('prints a loopback URL carrying a long random token', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{48}$`));
  });

  it('refuses the page, the API and the event stream without the token (401)', async () => {
    expect((await fetch(base + '/')).status).toBe(401);
    expect((await post('/api/app:info', {})).status).toBe(401);
    expect((await fetch(base + '/api/events')).status).toBe(401);
    const wrong = await post('/api/runs:list', {}, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ ok: false, error: { code: 'unauthorised' } });
  });

  it('serves the page for ?token= and sets an HttpOnly cookie that then authorises API calls', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('DPO Lab');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    // named per port: another local server (or a second lab) neither sees nor overwrites it
    expect(cookie.startsWith(`dpo_lab_token_${server.port}=`)).toBe(true);
    expect((await post('/api/app:info', {}, { cookie: `dpo_lab_token=${server.token}` })).status).toBe(401);
    const info = await post('/api/app:info', {}, { cookie: cookie.split(';')[0] });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ ok: true, value: { mode: 'web', dbPath: tmp.file('lab.db') } });
  });

  it('accepts a bearer token and returns structured errors naming the field for bad input', async () => {
    const auth = { authorization: `Bearer ${server.token}` };
    const bad = await post('/api/runs:start', { kind: 'synthetic', config: { lr: -1, loss: 'nope' } }, auth);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { ok: false; error: { code: string; issues: { path: string; message: string }[] } };
    expect(body.error.code).toBe('invalid_input');
    const paths = body.error.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['config.lr', 'config.loss']));
    expect(body.error.issues.find((i) => i.path === 'config.loss')!.message).toMatch(/valid losses: dpo, nbdpo-asymm/);
    const missing = await post('/api/runs:get', { id: 999 }, auth);
    expect(missing.status).toBe(404);
    const unknown = await post('/api/runs:explode', {}, auth);
    expect(unknown.status).toBe(404);
    const notJson = await fetch(base + '/api/runs:list', { method: 'POST', headers: auth, body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(/request body/);
  });

  it('opens the event stream with the token', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}/api/events?token=${server.token}`, (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
    });
    expect(status).toBe(200);
  });

  it('never serves files outside the renderer folder, not even from a sibling folder with a similar name', async () => {
    const res = await fetch(`${base}/..%2f..%2fetc%2fpasswd?token=${server.token}`);
    expect([403, 200]).toContain(res.status);
    expect(await res.text()).not.toContain('root:');
    const sibling = `${tmp.dir}-private`;
    fs.mkdirSync(sibling, { recursive: true });
    fs.writeFileSync(`${sibling}/secret.txt`, 'SECRET');
    const leak = await fetch(`${base}/..%2f${path.basename(sibling)}%2fsecret.txt?token=${server.token}`);
    expect(leak.status).toBe(403);
    fs.rmSync(sibling, { recursive: true, force: true });
  });

  it('answers malformed percent-encoding with 400, not a crash', async () => {
    expect((await fetch(`${base}/api/%E0%A4%A?token=${server.token}`, { method: 'POST', body: '{}' })).status).toBe(400);
    expect((await fetch(`${base}/%E0%A4%A?token=${server.token}`)).status).toBe(400);
    expect((await fetch(`${base}/`, { headers: { cookie: `dpo_lab_token_${server.port}=%E0%A4%A` } })).status).toBe(401);
  });

  it('lets the cookie work only for JSON posts from our own origin (no cross-site request forgery)', async () => {
    const cookie = `dpo_lab_token_${server.port}=${server.token}`;
    const host = `127.0.0.1:${server.port}`;
    const json = { 'content-type': 'application/json', cookie };
    expect((await post('/api/runs:list', {}, { cookie, origin: `http://${host}` })).status).toBe(200);
    expect((await post('/api/runs:list', {}, { cookie, origin: 'http://127.0.0.1:3000' })).status).toBe(403);
    const plain = await fetch(base + '/api/runs:list', { method: 'POST', headers: { cookie, 'content-type': 'text/plain' }, body: '{}' });
    expect(plain.status).toBe(403);
    expect((await fetch(base + '/api/runs:list', { method: 'POST', headers: json, body: '{}' })).status).toBe(200);
    // Scripts holding the token itself are not a forgery risk and need no headers.
    expect((await fetch(base + '/api/runs:list', { method: 'POST', headers: { authorization: `Bearer ${server.token}` }, body: '{}' })).status).toBe(200);
  });

  it('rejects a table whose rows do not match its header, naming the row', async () => {
    const res = await post(
      '/api/table:exportCsv',
      {
        header: ['a', 'b'],
        rows: [
          [1, 2],
          [1, 2, 3],
        ],
      },
      { authorization: `Bearer ${server.token}` },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { issues: { path: string; message: string }[] } };
    expect(body.error.issues).toEqual([{ path: 'rows[1]', message: 'has 3 cells but the header has 2' }]);
  });

  it('refuses requests whose Host is not a loopback name (DNS rebinding), even with the token', async () => {
    const status = (hostHeader: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: `/api/app:info`,
            method: 'POST',
            headers: { host: hostHeader, authorization: `Bearer ${server.token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    expect(await status('evil.example')).toBe(403);
    expect(await status(`evil.example:${server.port}`)).toBe(403);
    expect(await status(`localhost:${server.port}`)).toBe(200);
    expect(await status(`[::1]:${server.port}`)).toBe(200);
    expect(await status(`127.0.0.1:${server.port}`)).toBe(200);
  });
});
