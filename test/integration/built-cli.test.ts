import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The bundle (`npm run build` → out/main/cli.js + worker.js) behaves like the sources: the installed `dpo-lab`. */
describe('built dpo-lab binary', () => {
  it('runs a synthetic run through the bundled worker and lists it', () => {
    expect(fs.existsSync(path.join(ROOT, 'out/main/cli.js')), 'run `npm run build` first').toBe(true);
    const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-bin-')), 'lab.db');
    const run = spawnSync(process.execPath, ['bin/dpo-lab.js', '--db', db, 'run', 'synthetic', '--steps', '30', '--ref-steps', '5', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { runId: number; status: string; backend: string };
    expect(out.status).toBe('done');
    expect(out.backend).toMatch(/cpu|wasm|tensorflow/);
    const list = spawnSync(process.execPath, ['bin/dpo-lab.js', '--db', db, 'runs', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect((JSON.parse(list.stdout) as { id: number }[]).map((r) => r.id)).toEqual([out.runId]);
  });
});
