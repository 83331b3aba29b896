import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createLab, type Lab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { startWebServer, type WebServer } from '../../src-main/server/server';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const RENDERER_DIR = path.join(ROOT, 'out/renderer');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results/screenshots');

/** Debian's Chromium (apt-get install chromium), or $CHROMIUM_PATH. */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? null;
}

export interface WebLab {
  lab: Lab;
  server: WebServer;
  dbFile: string;
  dir: string;
  close(): Promise<void>;
}

/** A real lab (SQLite file in a temp folder, child-process workers) served over HTTP on 127.0.0.1. */
export async function startWebLab(opts: { dbFile?: string } = {}): Promise<WebLab> {
  if (!fs.existsSync(path.join(RENDERER_DIR, 'index.html')))
    throw new Error(`${RENDERER_DIR}/index.html is missing: run \`npm run build\` before the e2e tests`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-e2e-'));
  const dbFile = opts.dbFile ?? path.join(dir, 'lab.db');
  const lab = createLab({ dbFile, mode: 'web', launcher: childWorkerLauncher(), backend: 'cpu' });
  const server = await startWebServer({ service: lab.service, staticDir: RENDERER_DIR, port: 0 });
  const web: WebLab = {
    lab,
    server,
    dbFile,
    dir,
    async close() {
      // web.server: a test may have replaced it (a restarted server on the same port)
      await web.server.close();
      lab.close();
    },
  };
  return web;
}

export async function launchChromium(): Promise<Browser> {
  const exe = chromiumPath();
  if (!exe) throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
  return chromium.launch({
    executablePath: exe,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// ---- helpers for the UI tests (web mode) -------------------------------------------------------------------

export interface AppPage {
  page: Page;
  /** uncaught exceptions and console errors seen so far (CSP violations included) */
  errors: string[];
}

/** A fresh browser context on the lab's URL (token in the query), downloads allowed, errors collected. */
export async function openApp(browser: Browser, web: WebLab, hash = '', viewport = { width: 1440, height: 900 }): Promise<AppPage> {
  const context = await browser.newContext({ acceptDownloads: true, viewport, colorScheme: 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(web.server.url + hash);
  await page.waitForSelector('[data-testid="app-root"]');
  return { page, errors };
}

/** Calls one API command over HTTP with the token, as a script would; throws on an error envelope. */
export async function api<T = unknown>(web: WebLab, command: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${web.server.port}/api/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${web.server.token}` },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
  if (!body.ok) throw new Error(`${command}: ${body.error?.message}`);
  return body.value as T;
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until every listed run has left queued/running; returns their statuses. */
export async function waitForRuns(web: WebLab, ids: number[], timeoutMs = 90_000): Promise<string[]> {
  return until(
    async () => {
      const st = ids.map((id) => web.lab.store.runs.statusOf(id) ?? 'missing');
      return st.every((s) => s !== 'queued' && s !== 'running') ? st : null;
    },
    `runs ${ids.join(',')} to finish`,
    timeoutMs,
    200,
  );
}

/** Starts one short synthetic run through the API and waits for it to finish; returns its id. */
export async function finishedRun(web: WebLab, name: string, config: Record<string, unknown> = { steps: 30, refSteps: 5, evalEvery: 10 }): Promise<number> {
  const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', { kind: 'synthetic', config, name });
  const [status] = await waitForRuns(web, runIds);
  if (status !== 'done') throw new Error(`run ${runIds[0]} (${name}) ended ${status}, not done`);
  return runIds[0];
}

/** Records the requests the page sends for one command, with their JSON bodies (the array fills as they go). */
export function recordCalls(page: Page, command: string): unknown[] {
  const bodies: unknown[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith(`/api/${command}`)) bodies.push(JSON.parse(r.postData() ?? '{}'));
  });
  return bodies;
}

/** One web lab and one Chromium for a whole test file, closed after it; `use` receives them once started. */
export function withWebLabAndChromium(use: (web: WebLab, browser: Browser) => void): void {
  let web: WebLab | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    web = await startWebLab();
    browser = await launchChromium();
    use(web, browser);
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });
}
