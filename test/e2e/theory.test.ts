/** The Theory view reacts to its sliders; a Table 1 sweep renders as the grid next to the paper's numbers. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { api, openApp, screenshot, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('theory and sweeps', () => {
  it('moves the extrema when a slider moves', async () => {
    const { page, errors } = await openApp(browser, web, '#/theory');
    await page.waitForSelector('[data-testid="extrema-dpo-max"]');
    const before = await page.textContent('[data-testid="extrema-dpo-max"]');
    const textBefore = await page.textContent('[data-testid="extrema-text"]');
    await page.fill('[data-testid="slider-muQ"]', '80');
    await page.waitForFunction((b) => document.querySelector('[data-testid="extrema-dpo-max"]')?.textContent !== b, before, { timeout: 10_000 });
    expect(await page.textContent('[data-testid="extrema-text"]')).not.toBe(textBefore);
    // A preset restores the paper's first row.
    await page.click('[data-testid="theory-preset-0"]');
    await page.waitForFunction((b) => document.querySelector('[data-testid="extrema-dpo-max"]')?.textContent === b, before, { timeout: 10_000 });
    await screenshot(page, 'theory');
    expect(errors).toEqual([]);
  });

  it('renders a Table 1 sweep as the grid', async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      preset: 'table1',
      seeds: 1,
      steps: 30,
      base: { refSteps: 10, evalEvery: 10 },
    });
    expect(runIds.length).toBe(18);
    const statuses = await waitForRuns(web, runIds, 120_000);
    expect(statuses.every((s) => s === 'done')).toBe(true);

    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    await page.waitForSelector('[data-testid="table1-grid"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="table1-grid"] td[data-mean]:not([data-mean=""])').length === 18, null, {
      timeout: 15_000,
    });
    const cell = await page.textContent('[data-testid="cell-0.2-nbdpo-symm"]');
    expect(cell).toContain('paper 5.30');
    expect(cell).toContain('n=1');
    expect(await page.textContent('[data-testid="sweep-progress"]')).toContain('18/18');
    await screenshot(page, 'sweep-grid');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-grid-csv"]')]);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
    expect(csv[0].startsWith('mask,dpo mean,dpo std,dpo n,dpo paper')).toBe(true);
    expect(csv.length).toBe(4);
    expect(errors).toEqual([]);
  });
});
