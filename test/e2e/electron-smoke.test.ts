import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './harness';

/**
 * The Electron binary is fetched lazily by the electron package and cannot be downloaded on every machine
 * (not in this project's CI). Requiring 'electron' would try to download it, so look for it on disk instead.
 */
function electronBinary(): { path: string | null; why: string } {
  const pkgDir = path.join(ROOT, 'node_modules', 'electron');
  const pathTxt = path.join(pkgDir, 'path.txt');
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
    return fs.existsSync(p) ? { path: p, why: '' } : { path: null, why: `ELECTRON_OVERRIDE_DIST_PATH has no electron binary (${p})` };
  }
  if (!fs.existsSync(pathTxt)) return { path: null, why: 'the Electron binary is not installed (node_modules/electron/path.txt is missing: it is downloaded on first use, and this machine cannot download it)' };
  const bin = path.join(pkgDir, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  return fs.existsSync(bin) ? { path: bin, why: '' } : { path: null, why: `the Electron binary ${bin} is missing` };
}

const found = electronBinary();
const display = process.env.DISPLAY || fs.existsSync('/usr/bin/xvfb-run');
const skipReason = found.path ? (display ? '' : 'no X display and no xvfb-run') : found.why;
if (skipReason) process.stdout.write(`electron smoke test skipped: ${skipReason}\n`);

describe('Electron app', () => {
  it.skipIf(!!skipReason)('opens its window, loads the renderer and answers the API', () => {
    const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-electron-')), 'lab.db');
    const args = [ROOT, `--db=${db}`, '--no-sandbox'];
    const cmd = process.env.DISPLAY ? found.path! : '/usr/bin/xvfb-run';
    const res = spawnSync(cmd, process.env.DISPLAY ? args : ['-a', found.path!, ...args], {
      env: { ...process.env, DPO_LAB_SMOKE: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const line = res.stdout.split('\n').find((l) => l.startsWith('SMOKE '));
    expect(line, res.stderr).toBeDefined();
    expect(JSON.parse(line!.slice(6))).toEqual({ title: 'DPO Lab', ok: true });
  });
});
