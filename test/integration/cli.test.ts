import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { tempDir } from '../unit/tmp';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('cli.db');

/** Runs the real CLI from source, as `npm run --silent lab -- …` does. */
function lab(args: string[], input?: string) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** `serve --port 0` as a process; resolves with it and the URL it prints first. */
async function startServe(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
  return { child, url };
}

/** The CLI as a process (`npm run lab`): exit codes, stdin, stdout drained before exit, serve until SIGTERM. */
describe('dpo-lab CLI as a process', () => {
  let runId = 0;

  it('run synthetic --json prints runId, config, final metrics and the K×K probabilities', () => {
    const r = lab([
      'run',
      'synthetic',
      '--loss',
      'bdpo',
      '--steps',
      '40',
      '--ref-steps',
      '10',
      '--seed',
      '7',
      '--k',
      '6',
      '--pairs-per-prompt',
      '10',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; config: Record<string, unknown>; final: Record<string, number>; probs: number[][]; status: string };
    runId = out.runId;
    expect(out.status).toBe('done');
    expect(out.config).toMatchObject({ loss: 'bdpo', steps: 40, refSteps: 10, seed: 7, K: 6 });
    for (const k of ['expectedUtility', 'pBest', 'oodMass', 'klToRef']) expect(Number.isFinite(out.final[k])).toBe(true);
    expect(out.probs).toHaveLength(6);
    for (const row of out.probs) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it('export writes long-format CSV with a header and one row per (step, metric)', () => {
    const out = tmp.file('run.csv');
    const r = lab(['export', '--run', String(runId), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(fs.readFileSync(out, 'utf8'), { columns: true }) as { run_id: string; step: string; name: string; value: string }[];
    expect(Object.keys(rows[0])).toEqual(['run_id', 'step', 'name', 'value']);
    const losses = rows.filter((x) => x.name === 'loss');
    expect(losses.map((x) => Number(x.step))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(rows.every((x) => x.run_id === String(runId))).toBe(true);
  });

  it('export to a reader that stops early (| head -1) exits quietly', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" --import tsx src-main/cli/index.ts --db "${db}" export --run ${runId} | head -1`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('run_id,step,name,value\n');
    expect(r.stderr).not.toMatch(/EPIPE|error/);
  });

  it('exits 2 on bad input with a message on stderr, saving nothing', () => {
    const before = (JSON.parse(lab(['runs', '--json']).stdout) as unknown[]).length;
    const bad = lab(['run', 'synthetic', '--loss', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/--loss: unknown loss "nope"/);
    const missing = lab(['export', '--run', '99999', '--out', tmp.file('x.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run 99999 does not exist/);
    expect((JSON.parse(lab(['runs', '--json']).stdout) as unknown[]).length).toBe(before);
  });

  it('loss --input - prints per-pair losses and gradients for the worked example', () => {
    const r = lab(['loss', '--input', '-'], JSON.stringify({ logp_w: [-2], logp_l: [-3], ref_w: [-2.5], ref_l: [-2.8], losses: ['dpo', 'nbdpo-asymm'] }));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { loss: number[]; grad_w: number[]; grad_l: number[] }>;
    expect(out.dpo.loss[0]).toBeCloseTo(0.403186, 5);
    expect(out.dpo.grad_w[0]).toBeCloseTo(-0.331812, 5);
    expect(out['nbdpo-asymm'].grad_w[0]).toBeCloseTo(-0.497718, 5);
    expect(out['nbdpo-asymm'].grad_l[0]).toBeCloseTo(0.331812, 5);
  });

  it('serve --port 0 prints one URL with the token and answers it', async () => {
    const { child, url } = await startServe();
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
      const u = new URL(url);
      const ok = await fetch(`${u.origin}/api/runs:list`, { method: 'POST', headers: { authorization: `Bearer ${u.searchParams.get('token')}` }, body: '{}' });
      expect(ok.status).toBe(200);
      expect((await fetch(`${u.origin}/api/runs:list`, { method: 'POST', body: '{}' })).status).toBe(401);
      const info = await fetch(`${u.origin}/api/app:info`, { method: 'POST', headers: { authorization: `Bearer ${u.searchParams.get('token')}` }, body: '{}' });
      expect(((await info.json()) as { value: { mode: string } }).value.mode).toBe('web');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('serve keeps the token given by DPO_LAB_TOKEN (a restart keeps open tabs working) and refuses a weak one', async () => {
    const token = 'fixed-token-for-restarts-0123';
    const { child, url } = await startServe({ DPO_LAB_TOKEN: token });
    try {
      expect(new URL(url).searchParams.get('token')).toBe(token);
    } finally {
      child.kill('SIGTERM');
    }
    const weak = lab(['serve', '--port', '0', '--token', 'short']);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/--token: use 16 to 200/);
  });

  it('the CLI writes --json output larger than a pipe buffer completely before exiting', () => {
    const many = tmp.file('many.db');
    const seeded = createLab({ dbFile: many, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    seeded.store.runs.createMany(
      Array.from({ length: 3000 }, (_, i) => ({
        name: `r${i} ${'x'.repeat(40)}`,
        kind: 'synthetic' as const,
        config: SyntheticConfigSchema.parse({ seed: i }),
      })),
    );
    seeded.store.db.prepare(`UPDATE runs SET status = 'done'`).run();
    seeded.close();
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', many, 'runs', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(res.stdout.length).toBeGreaterThan(200_000);
    expect((JSON.parse(res.stdout) as unknown[]).length).toBe(3000);
  });
});
