/** Light and dark themes (the system's, or Settings' override), and letter shortcuts held back behind a dialog. */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { finishedRun, openApp, screenshot, until, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('keyboard and themes', () => {
  it('follows the system theme, and Settings can override it', async () => {
    const background = (p: Page) => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const luminance = (rgb: string) => {
      const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const light = await openApp(browser, web, '#/settings');
    expect(luminance(await background(light.page))).toBeGreaterThan(180);

    const darkContext = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1440, height: 900 } });
    const dark = await darkContext.newPage();
    await dark.goto(web.server.url + '#/runs');
    await dark.waitForSelector('[data-testid="app-root"]');
    expect(luminance(await background(dark)).valueOf()).toBeLessThan(80);
    await screenshot(dark, 'dark-runs');

    await light.page.click('[data-testid="theme-dark"]');
    await until(async () => luminance(await background(light.page)) < 80, 'the override to darken the page', 5000);
    await light.page.click('[data-testid="theme-system"]');
    await until(async () => luminance(await background(light.page)) > 180, 'system (light) to come back', 5000);
    await darkContext.close();
    expect(light.errors).toEqual([]);
  });

  it('letter shortcuts wait while a confirm dialog is open', async () => {
    const id = await finishedRun(web, 'dialog run');
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    await page.click('[data-testid="delete-run"]');
    await page.waitForSelector('[data-testid="confirm-dialog"]');
    await page.keyboard.press('n');
    await page.keyboard.press('/');
    await page.waitForTimeout(200);
    expect(page.url()).toMatch(new RegExp(`#/runs/${id}$`));
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="confirm-dialog"]', { state: 'detached' });
    expect(web.lab.store.runs.get(id)).toBeTruthy();
    await page.keyboard.press('n');
    await page.waitForSelector('[data-testid="launcher"]');
    expect(errors).toEqual([]);
  });
});
