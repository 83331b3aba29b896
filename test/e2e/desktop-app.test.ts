/**
 * The desktop app as users get it: the built Electron app (out/main/index.js) driven by Playwright's `_electron`,
 * on a fresh database. It opens on the runs list, launches a short synthetic run from the launcher (the run
 * trains in an Electron utility process), waits for it to finish, and exports its CSV through the native save
 * dialog, stubbed in the main process.
 *
 * It needs the Electron binary, which the electron package downloads on first use; this project's CI cannot
 * download it, so the test looks for it on disk (never `require('electron')`, which would try to download)
 * and skips, saying why, where it is missing. Without a display it starts its own Xvfb.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { ROOT, until } from './harness';

const MAIN = path.join(ROOT, 'out/main/index.js');

/** The Electron executable the electron package would run, looked up on disk the way its index.js does. */
function electronBinary(): { path: string | null; why: string } {
  const pkgDir = path.join(ROOT, 'node_modules', 'electron');
  const pathTxt = path.join(pkgDir, 'path.txt');
  const name = fs.existsSync(pathTxt) ? fs.readFileSync(pathTxt, 'utf8').trim() : null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, name ?? 'electron');
    return fs.existsSync(p) ? { path: p, why: '' } : { path: null, why: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${p})` };
  }
  if (!name)
    return {
      path: null,
      why: 'Electron binary not installed (node_modules/electron/path.txt and dist/ missing: the electron package downloads it on first use, and this machine cannot)',
    };
  const bin = path.join(pkgDir, 'dist', name);
  return fs.existsSync(bin) ? { path: bin, why: '' } : { path: null, why: `Electron binary not installed (${bin} missing)` };
}

/** Xvfb on PATH, for machines without a display. */
function xvfbPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'Xvfb');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

/** Starts Xvfb on a free display (it writes the number it took to stdout: -displayfd). */
async function startXvfb(exe: string): Promise<{ display: string; proc: ChildProcess }> {
  const proc = spawn(exe, ['-displayfd', '1', '-screen', '0', '1440x900x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb reported no display within 10 s: ${err}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before reporting a display: ${err}`));
    });
  });
  return { display, proc };
}

const found = electronBinary();
const xvfb = process.env.DISPLAY ? null : xvfbPath();
const skipReason = !found.path ? found.why : !process.env.DISPLAY && !xvfb ? 'no X display (DISPLAY unset) and no Xvfb on PATH (apt-get install xvfb)' : '';
if (skipReason) process.stdout.write(`desktop app e2e skipped: ${skipReason}\n`);

describe.skipIf(!!skipReason)('desktop app (Electron)', () => {
  let dir: string;
  let dbFile: string;
  let xvfbProc: ChildProcess | null = null;
  let app: ElectronApplication;
  let win: Page;
  /** uncaught exceptions and console errors in the window */
  const errors: string[] = [];
  /** the main process's output, shown when something goes wrong */
  let mainLog = '';

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the e2e tests`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-desktop-'));
    dbFile = path.join(dir, 'lab.db');
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    // Keep the test's window state and local storage out of the user's own profile.
    env.XDG_CONFIG_HOME = path.join(dir, 'config');
    delete env.ELECTRON_RUN_AS_NODE;
    if (!process.env.DISPLAY) {
      const x = await startXvfb(xvfb!);
      xvfbProc = x.proc;
      env.DISPLAY = x.display;
    }
    // No executablePath: Playwright then runs the electron package's binary with its loader, which holds the
    // app's `ready` until Playwright is attached. The app reads --db=FILE from its argv.
    app = await _electron.launch({
      args: [ROOT, `--db=${dbFile}`, `--user-data-dir=${path.join(dir, 'user-data')}`, '--disable-gpu', '--disable-dev-shm-usage'],
      env,
      cwd: ROOT,
      timeout: 60_000,
    });
    const proc = app.process();
    proc.stdout?.on('data', (d: Buffer) => (mainLog = (mainLog + d.toString()).slice(-8000)));
    proc.stderr?.on('data', (d: Buffer) => (mainLog = (mainLog + d.toString()).slice(-8000)));
    win = await app.firstWindow({ timeout: 60_000 });
    win.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    win.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await win.waitForSelector('[data-testid="app-root"]', { timeout: 60_000 });
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    xvfbProc?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens its window on the empty runs list, with its profile in the test folder, and answers the API', async () => {
    expect(await win.title()).toBe('DPO Lab');
    await win.waitForSelector('[data-testid="runs-view"]');
    await win.waitForSelector('[data-testid="empty-runs"]');
    expect(await win.textContent('[data-testid="empty-runs"]')).toContain('No runs yet');

    const userData = await app.evaluate(({ app: electronApp }) => electronApp.getPath('userData'));
    expect(userData.startsWith(dir), `userData ${userData} is outside ${dir}`).toBe(true);

    // The preload's bridge is there and the main process answers through it.
    const info = await win.evaluate(async () => {
      const lab = (window as unknown as { lab?: Record<string, (input: unknown) => Promise<{ ok: boolean }>> }).lab;
      return lab ? await lab['app:info']({}) : null;
    });
    expect(info, 'window.lab (the preload bridge) is missing').not.toBeNull();
    expect(info!.ok).toBe(true);
    expect(errors).toEqual([]);
  });

  it('launches a short synthetic run from the UI, waits for it, and exports its CSV through the save dialog', async () => {
    // The empty state's link opens the launcher with the quick preset; shorten it further.
    await win.click('[data-testid="empty-quick"]');
    await win.waitForSelector('[data-testid="launcher"]');
    await until(async () => (await win.inputValue('#cfg-steps')) === '200', 'the quick preset in the launcher', 10_000);
    await win.fill('#cfg-steps', '40');
    await win.fill('#cfg-refSteps', '10');
    await win.click('[data-testid="launch"]');
    await win.waitForURL(/#\/runs\/\d+$/, { timeout: 30_000 });
    const runId = Number(/#\/runs\/(\d+)$/.exec(win.url())![1]);

    // It trains in a utility process; the page follows it to the end.
    const view = await win.waitForSelector(
      '[data-testid="run-view"][data-status="done"], [data-testid="run-view"][data-status="failed"], [data-testid="run-view"][data-status="cancelled"]',
      { timeout: 120_000 },
    );
    const status = await view.getAttribute('data-status');
    const runError = (await win.$('[data-testid="run-error"]')) ? await win.textContent('[data-testid="run-error"]') : '';
    expect(status, `run ${runId} ended ${status}: ${runError}\nmain process:\n${mainLog}`).toBe('done');
    expect(await win.textContent('[data-testid="backend"]')).toMatch(/wasm|cpu|tensorflow/);
    await win.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 15_000,
    });

    // The runs list shows it, done.
    await win.click('[data-testid="nav-runs"]');
    await win.waitForSelector(`[data-testid="run-row-${runId}"]`);
    expect(await win.textContent(`[data-testid="run-row-${runId}"]`)).toContain('done');

    // Export CSV from its page: the native save dialog is replaced in the main process by one that answers
    // with a path in the test folder (and remembers what it was asked).
    const target = path.join(dir, 'exported.csv');
    await app.evaluate(({ dialog }, file) => {
      const g = globalThis as unknown as { __dpoLabSaveDialogAsked?: string[] };
      g.__dpoLabSaveDialogAsked = [];
      const stub = async (...args: unknown[]) => {
        const opts = (args.length > 1 ? args[1] : args[0]) as { defaultPath?: string };
        g.__dpoLabSaveDialogAsked!.push(opts.defaultPath ?? '');
        return { canceled: false, filePath: file };
      };
      (dialog as unknown as { showSaveDialog: typeof stub }).showSaveDialog = stub;
    }, target);
    await win.click(`[data-testid="open-${runId}"]`);
    await win.waitForSelector('[data-testid="run-view"][data-status="done"]');
    await win.click('[data-testid="export-csv"]');
    await until(() => fs.existsSync(target) && fs.statSync(target).size > 0, `the CSV at ${target}`, 15_000);
    const asked = await app.evaluate(() => (globalThis as unknown as { __dpoLabSaveDialogAsked?: string[] }).__dpoLabSaveDialogAsked);
    expect(asked).toEqual([`run-${runId}-metrics.csv`]);

    const lines = fs.readFileSync(target, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('run_id,step,name,value');
    expect(lines.length).toBeGreaterThan(40);
    expect(lines.slice(1).every((l) => l.startsWith(`${runId},`))).toBe(true);
    expect(lines.some((l) => /,loss,/.test(l))).toBe(true);
    expect(errors).toEqual([]);
  });
});
