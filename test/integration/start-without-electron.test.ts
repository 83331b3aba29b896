/** `npm start` where the Electron binary is missing: one clear paragraph naming the way out, no stack trace. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const installed = fs.existsSync(path.join(ROOT, 'node_modules/electron/path.txt'));

describe('npm start', () => {
  it.skipIf(installed)('explains a missing Electron binary and points to npm run serve (skipped where Electron is installed)', () => {
    const env = { ...process.env };
    delete env.ELECTRON_OVERRIDE_DIST_PATH;
    const r = spawnSync(process.execPath, ['scripts/start.mjs'], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Electron binary is not installed/);
    expect(r.stderr).toMatch(/npm run serve/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).not.toMatch(/Downloading Electron/);
  });
});
