/**
 * The rest of the dashboard contract, as a researcher would use it: the Figure 2 preset (two losses side by side)
 * into compare with log-y and a PNG export; the Table 1 preset launched from the UI into its grid and a cell's
 * compare view; keyboard shortcuts; light and dark themes.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { openApp, screenshot, until, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

async function shortRuns(page: Page): Promise<void> {
  await page.fill('#cfg-steps', '40');
  await page.fill('#cfg-refSteps', '10');
  await page.fill('#cfg-evalEvery', '10');
}

describe('dashboard feel', () => {
  it('n opens the launcher; the Figure 2 preset trains DPO and bDPO side by side into compare; log-y; PNG export', async () => {
    const { page, errors } = await openApp(browser, web, '#/runs');
    await page.keyboard.press('n');
    await page.waitForSelector('[data-testid="launcher"]');
    await page.click('[data-testid="preset-figure2"]');
    expect(await page.isChecked('[data-testid="loss-dpo"] input')).toBe(true);
    expect(await page.isChecked('[data-testid="loss-bdpo"] input')).toBe(true);
    await shortRuns(page);
    await page.click('[data-testid="launch"]');
    await page.waitForURL(/#\/compare\?ids=\d+(,|%2C)\d+/);
    const ids = decodeURIComponent(/ids=([^&]+)/.exec(page.url())![1]).split(',').map(Number);
    expect(ids).toHaveLength(2);
    await until(() => ids.every((id) => web.lab.store.runs.statusOf(id) === 'done'), 'both runs to finish', 60_000);
    const runs = ids.map((id) => web.lab.store.runs.get(id)!);
    expect(runs.map((r) => r.loss).sort()).toEqual(['bdpo', 'dpo']);
    expect(runs[0].config).toMatchObject({ steps: 40, refSteps: 10, seed: runs[1].config.seed });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="compare-view"] tbody tr').length >= 2, null, { timeout: 20_000 });

    await page.check('[data-testid="log-y"]');
    await until(
      async () =>
        page.evaluate(() => {
          const hooks = (window as unknown as { __dpoLab?: { charts: Map<string, { getOption(): { yAxis: { type: string }[] } }> } }).__dpoLab;
          return [...(hooks?.charts.values() ?? [])].some((c) => c.getOption().yAxis?.[0]?.type === 'log');
        }),
      'a chart to switch to a log y axis',
      10_000,
    );

    const pngButton = page.locator('[data-testid^="png-"]').first();
    const [download] = await Promise.all([page.waitForEvent('download'), pngButton.click()]);
    expect(download.suggestedFilename()).toMatch(/\.png$/);
    const bytes = fs.readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(bytes.length).toBeGreaterThan(2000);
    await screenshot(page, 'figure2-compare');
    expect(errors).toEqual([]);
  });

  it('the Table 1 preset launched from the UI fills its grid; a cell opens the compare view of its runs', async () => {
    const { page, errors } = await openApp(browser, web, '#/experiments');
    await page.waitForSelector('[data-testid="launcher"]');
    await page.fill('#cfg-steps', '15');
    await page.fill('#cfg-refSteps', '5');
    await page.fill('#cfg-evalEvery', '5');
    await page.fill('#t1seeds', '1');
    await page.click('[data-testid="preset-table1"]');
    await page.click('[data-testid="confirm-ok"]');
    await page.waitForURL(/#\/sweeps\/\d+/);
    const sweepId = Number(/#\/sweeps\/(\d+)/.exec(page.url())![1]);
    await until(() => web.lab.store.sweeps.get(sweepId)?.status === 'done', 'the sweep to finish', 90_000);
    const sweep = web.lab.store.sweeps.get(sweepId)!;
    expect(sweep.runIds).toHaveLength(18);
    expect(sweep.preset).toBe('table1');
    await page.waitForFunction(() => document.querySelector('[data-testid="cell-0.4-bdpo"]')?.getAttribute('data-mean') !== '', null, { timeout: 20_000 });
    const shown = Number(await page.getAttribute('[data-testid="cell-0.4-bdpo"]', 'data-mean'));
    const run = web.lab.store.runs.list({ sweepId, loss: 'bdpo' }).find((r) => r.config.mask === 0.4)!;
    expect(shown).toBeCloseTo(run.final!.expectedUtility, 6);
    await page.click('[data-testid="cell-0.4-bdpo"] a');
    await page.waitForURL(new RegExp(`#/compare\\?ids=${run.id}$`));
    await page.waitForSelector('[data-testid="compare-view"]');
    await screenshot(page, 'table1-cell-compare');
    expect(errors).toEqual([]);
  });

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

  it('Defaults after a clone leaves clone mode; equal μP and μQ are explained, not given fake extrema', async () => {
    const run = web.lab.store.runs.list().find((r) => r.config.steps !== 1000)!;
    const { page, errors } = await openApp(browser, web, `#/experiments?from=${run.id}`);
    await until(async () => (await page.inputValue('#cfg-steps')) === String(run.config.steps), 'the clone to fill the form', 10_000);
    await page.click('[data-testid="defaults"]');
    await page.waitForFunction(() => !location.hash.includes('from='), null, { timeout: 5000 });
    expect(await page.inputValue('#cfg-steps')).toBe('1000');
    await page.click('[data-testid="nav-theory"]');
    await page.waitForSelector('[data-testid="slider-muQ"]');
    await page.fill('[data-testid="slider-muQ"]', '45');
    await page.waitForFunction(() => /coincide/.test(document.querySelector('[data-testid="extrema-text"]')?.textContent ?? ''), null, { timeout: 5000 });
    expect(errors).toEqual([]);
  });
});
