/** The Theory view (Figure 1): the extrema move with the sliders, a preset restores the paper's row, μP = μQ is explained. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openApp, screenshot, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('theory', () => {
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

  it('equal μP and μQ are explained, not given fake extrema', async () => {
    const { page, errors } = await openApp(browser, web, '#/theory');
    await page.waitForSelector('[data-testid="slider-muQ"]');
    await page.fill('[data-testid="slider-muQ"]', '45');
    await page.waitForFunction(() => /coincide/.test(document.querySelector('[data-testid="extrema-text"]')?.textContent ?? ''), null, { timeout: 5000 });
    expect(errors).toEqual([]);
  });
});
