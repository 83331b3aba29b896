/** Web mode's guard (token on the API, the app and the event stream) and what the page does when the server goes away. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer } from '../../src-main/server/server';
import { chromiumPath, launchChromium, openApp, RENDERER_DIR, startWebLab, type WebLab } from './harness';

let web: WebLab;
let browser: Browser | null = null;
beforeAll(async () => {
  web = await startWebLab();
  if (chromiumPath()) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

describe('web mode access', () => {
  it('refuses requests without the token', async () => {
    const base = `http://127.0.0.1:${web.server.port}`;
    const apiRes = await fetch(`${base}/api/app:info`, { method: 'POST', body: '{}' });
    expect(apiRes.status).toBe(401);
    const body = (await apiRes.json()) as { ok: boolean };
    expect(body.ok).toBe(false);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(401);
    const events = await fetch(`${base}/api/events`);
    expect(events.status).toBe(401);
  });

  it('says the lab is unreachable while the server is down, holds live controls, and recovers when it is back with the same token', async () => {
    if (!browser) return console.warn('skipped: no Chromium (set CHROMIUM_PATH or apt-get install chromium)');
    const { page, errors } = await openApp(browser, web, '#/experiments');
    await page.waitForFunction(() => document.querySelector('[data-testid="lab-unreachable"]') === null);
    const { port, token } = web.server;
    await web.server.close();
    await page.waitForSelector('[data-testid="lab-unreachable"]', { timeout: 20_000 });
    expect(await page.$eval('[data-testid="app-root"]', (el) => el.classList.contains('offline'))).toBe(true);
    // `serve --token` on the same port: the page's cookie and event stream work again without a reload
    web.server = await startWebServer({ service: web.lab.service, staticDir: RENDERER_DIR, port, token });
    await page.waitForSelector('[data-testid="lab-unreachable"]', { state: 'detached', timeout: 30_000 });
    expect(await page.$eval('[data-testid="app-root"]', (el) => el.classList.contains('offline'))).toBe(false);
    // console errors from the failed reconnect attempts are expected while the server is down
    expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(e))).toEqual([]);
    await page.context().close();
  });
});
