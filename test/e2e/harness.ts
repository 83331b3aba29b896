import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
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
  const server = await startWebServer({ service: lab.service, manager: lab.manager, staticDir: RENDERER_DIR, port: 0 });
  return {
    lab,
    server,
    dbFile,
    dir,
    async close() {
      await server.close();
      lab.close();
    },
  };
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
