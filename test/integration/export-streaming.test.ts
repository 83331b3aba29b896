/**
 * Issue 8 item 2: a large metrics export over real HTTP (a 500k-row run written straight into a real SQLite file)
 * is streamed page by page, so the server answers other requests while it is still producing the export; the
 * streamed answer is the same JSON envelope, with the same CSV, as the whole-string export. Responsiveness is
 * checked by order of events, never by wall-clock thresholds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import { createLab, type Lab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { startWebServer, type WebServer } from '../../src-main/server/server';
import { LabStore } from '../../src-main/store';
import { metricsCsv } from '../../src-main/store/export';
import { LIMITS } from '@shared/contract';
import { tempDir } from '../unit/tmp';

const tmp = tempDir();
const db = tmp.file('big.db');
const NAMES = Array.from({ length: 25 }, (_, i) => (i === 3 ? '=formula-like' : `metric_${String(i).padStart(2, '0')}`));
const STEPS = 20_000; // × 25 names = 500k rows
let bigRun = 0;
let lab: Lab;
let server: WebServer;

beforeAll(async () => {
  const store = LabStore.open(db);
  bigRun = store.runs.createMany([{ name: 'big', kind: 'synthetic', config: { loss: 'dpo' } }])[0];
  for (let from = 1; from <= STEPS; from += 2000) {
    const steps: number[] = [];
    const nameIdx: number[] = [];
    const values: number[] = [];
    for (let step = from; step < from + 2000; step++)
      for (let n = 0; n < NAMES.length; n++) {
        steps.push(step);
        nameIdx.push(n);
        values.push(step % 997 === 0 && n === 0 ? NaN : Math.sin(step * (n + 1)));
      }
    store.metrics.append(bigRun, { steps, nameIdx, names: NAMES, values });
  }
  store.close();
  fs.writeFileSync(tmp.file('index.html'), '<!doctype html><title>DPO Lab</title>');
  lab = createLab({ dbFile: db, mode: 'web', launcher: childWorkerLauncher(), backend: 'cpu' });
  server = await startWebServer({ service: lab.service, staticDir: tmp.dir, port: 0 });
});
afterAll(async () => {
  await server.close();
  lab.close();
  tmp.cleanup();
});

/** POSTs a command; `onResponse` sees the response before its body is read (to pause or drop it). */
function request(command: string, body: unknown, onResponse?: (res: http.IncomingMessage, req: http.ClientRequest) => void) {
  const req = http.request({
    host: '127.0.0.1',
    port: server.port,
    path: `/api/${command}`,
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
  });
  const done = new Promise<{ status: number; text: string; firstChunk: Promise<void> }>((resolve, reject) => {
    req.on('response', (res) => {
      onResponse?.(res, req);
      const chunks: Buffer[] = [];
      let first = () => {};
      const firstChunk = new Promise<void>((r) => (first = r));
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        first();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), firstChunk }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.end(JSON.stringify(body));
  return { req, done };
}

describe('metrics export over HTTP', () => {
  it('answers a small request while a 500k-row export is still being produced; the export is the whole CSV', async () => {
    const expected = metricsCsv(lab.store.metrics, [bigRun]);
    expect(expected.split('\n').length).toBe(NAMES.length * STEPS + 2); // header, rows, final newline

    let exportEnded = false;
    let firstBytes!: () => void;
    const exportStarted = new Promise<void>((r) => (firstBytes = r));
    const big = request('runs:exportCsv', { ids: [bigRun] }, (res) => res.once('data', () => firstBytes()));
    const exported = big.done.then((r) => {
      exportEnded = true;
      return r;
    });

    // As soon as the export's first bytes are here, ask for something small.
    await exportStarted;
    const info = await request('app:info', {}).done;
    const small = { exportStillOpen: server.openExports(), exportEnded, status: info.status };

    const res = await exported;
    expect(small).toEqual({ exportStillOpen: 1, exportEnded: false, status: 200 });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { ok: boolean; value: { filename: string; csv: string } };
    expect(body.ok).toBe(true);
    expect(body.value.filename).toBe(`run-${bigRun}-metrics.csv`);
    expect(body.value.csv).toBe(expected);
    expect(server.openExports()).toBe(0);
  });

  it('stops reading the database when the client goes away mid-export', async () => {
    const { req, done } = request('runs:exportCsv', { ids: [bigRun] }, (res, r) => res.once('data', () => r.destroy()));
    await expect(done).rejects.toThrow();
    expect(req.destroyed).toBe(true);
    await vi.waitFor(() => expect(server.openExports()).toBe(0));
  });

  it('refuses before the first byte: an unknown run (404) and too many distinct runs (400), each named', async () => {
    const missing = await request('runs:exportCsv', { ids: [bigRun, 424242] }).done;
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ ok: false, error: { code: 'not_found', message: 'run 424242 does not exist' } });
    const many = await request('runs:exportCsv', { ids: Array.from({ length: LIMITS.exportRuns + 1 }, (_, i) => i + 1) }).done;
    expect(many.status).toBe(400);
    expect(JSON.parse(many.text)).toMatchObject({
      ok: false,
      error: { issues: [{ path: 'ids', message: `ids: at most ${LIMITS.exportRuns} runs per export` }] },
    });
  });

  it('counts 20,000 copies of one id once', async () => {
    const small = lab.store.runs.createMany([{ name: 'small', kind: 'synthetic', config: { loss: 'dpo' } }])[0];
    lab.store.metrics.append(small, { steps: [1, 2], nameIdx: [0, 0], names: ['loss'], values: [0.5, 0.25] });
    const res = await request('runs:exportCsv', { ids: new Array(20_000).fill(small) }).done;
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { value: { csv: string } }).value.csv).toBe(`run_id,step,name,value\n${small},1,loss,0.5\n${small},2,loss,0.25\n`);
  });
});
