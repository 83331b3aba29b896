/** The Theory view (Figure 1): the extrema move with the sliders, a preset restores the paper's row, μP = μQ is explained. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openApp, screenshot, until, type WebLab, withWebLabAndChromium } from './harness';
import { overlappingTexts } from './chart-text';

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

  it("at 1024×700 no two of the charts' labels overlap, for the default and each of the paper's rows", async () => {
    const { page, errors } = await openApp(browser, web, '#/theory', { width: 1024, height: 700 });
    await page.waitForSelector('[data-testid="extrema-dpo-max"]');
    const overlaps = () => overlappingTexts(page, ['theory-weights', 'theory-updates']);
    /** Waits until the weights chart labels the DPO maximum the extrema table names (the chart has redrawn). */
    const settled = async () => {
      const at = (await page.textContent('[data-testid="extrema-dpo-max"]'))!.trim();
      return until(async () => {
        const r = await overlaps();
        return r.seen.includes(`max ${at}`) ? r : null;
      }, `the chart to label max ${at}`);
    };
    const check = async (what: string) => {
      const { found, seen } = await settled();
      // the check sees the labels it is about: extrema and band names
      expect(seen.some((t) => /^min \d/.test(t)) && seen.includes('P') && seen.includes('Q'), what).toBe(true);
      expect(found, what).toEqual([]);
    };
    await check('default');
    for (const preset of [0, 1, 2]) {
      await page.click(`[data-testid="theory-preset-${preset}"]`);
      await check(`preset ${preset}`);
    }
    expect(errors).toEqual([]);
  });
});
