/**
 * The Table 1 report file opens in Chromium from disk with no console error, no failed or outside request (the
 * only request is the file itself), and its tables and sentence are there to read. The Sweeps view's Report
 * button on a real (short) Table 1 sweep downloads the same file as the API gives, with its charts as inline
 * SVG, and that file too opens from disk with nothing fetched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { summariseRuns } from '@shared/sweeps';
import { summariseSensitivity } from '@shared/sensitivity';
import { PAPER_LOSSES } from '@shared/losses';
import { lossColor } from '@shared/loss-colors';
import { table1ReportHtml } from '../../src-main/report/table1-report';
import type { ReportOutput } from '@shared/report';
import { api, openApp, screenshot, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-report-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens a file from disk; returns the page with the console errors and every request it made. */
async function openFile(file: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
  await page.goto(`file://${file}`);
  await page.waitForLoadState('load');
  return { page, errors, requests };
}

describe('table1 report in Chromium', () => {
  it('renders from disk without errors or network requests', async () => {
    let id = 0;
    const runs = [0, 0.2, 0.4].flatMap((mask) =>
      [0, 1, 2].flatMap((seed) =>
        PAPER_LOSSES.map((loss) => ({
          id: ++id,
          status: 'done',
          config: SyntheticConfigSchema.parse({ loss, mask, seed }) as unknown as Record<string, unknown>,
          final: { expectedUtility: 10 + seed, expectedUtilityNormalized: 4 + seed / 2 + (loss === 'dpo' ? 1 : 0) },
        })),
      ),
    );
    const file = path.join(dir, 'report.html');
    const html = table1ReportHtml({
      table1: summariseRuns(runs, 'table1'),
      sensitivity: summariseSensitivity(runs),
      meta: { appVersion: 'test', backend: 'cpu', seeds: 3, createdAt: new Date(0), config: { preset: 'table1', seeds: 3 } },
    });
    fs.writeFileSync(file, html);

    const { page, errors, requests } = await openFile(file);
    expect(await page.locator('table').count()).toBe(4); // Table 1 (R̃), raw R, sensitivity, settings
    expect(await page.textContent('.sentence')).toMatch(/^dpo ranks first in 3 of 3 settings\./);
    expect(await page.locator('a[download="table1.csv"]').count()).toBe(1);
    await screenshot(page, 'table1-report');
    expect(errors).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    await page.close();
  });

  it('Report on a finished Table 1 sweep downloads the file the API gives, charts inline, nothing fetched when opened', async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      preset: 'table1',
      seeds: 1,
      steps: 30,
      base: { refSteps: 10, evalEvery: 10 },
    });
    expect((await waitForRuns(web, runIds, 120_000)).every((s) => s === 'done')).toBe(true);
    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    const button = page.locator('[data-testid="export-report"]');
    await button.waitFor();
    await page.waitForFunction(() => !(document.querySelector('[data-testid="export-report"]') as HTMLButtonElement).disabled, null, { timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    expect(download.suggestedFilename()).toMatch(/-report\.html$/);
    const file = path.join(dir, download.suggestedFilename());
    fs.copyFileSync((await download.path())!, file);
    expect(errors).toEqual([]);
    await page.context().close();

    // the same document as the API gives (the time it was written aside)
    const viaApi = await api<ReportOutput>(web, 'sweeps:report', { table1: sweepId });
    const stamp = (html: string) => html.replace(/written [0-9T:.Z-]+/, 'written …');
    expect(stamp(fs.readFileSync(file, 'utf8'))).toBe(stamp(viaApi.content));

    const opened = await openFile(file);
    const p = opened.page;
    // Figure 2 per mask, three training curves, Figure 1 in three settings × two samplings
    expect(await p.locator('figure[id^="figure2-mask"] svg').count()).toBe(3);
    expect(await p.locator('figure[id^="curves-"] svg').count()).toBe(3);
    expect(await p.locator('figure[id^="figure1-"] svg').count()).toBe(6);
    // the heatmaps hold K×K cells; the curves are drawn (one path per loss at least), in the app's loss colours
    expect(await p.locator('#figure2-mask0\\.0 svg rect[fill^="#"] title').count()).toBe(2 * 20 * 20);
    const balance = p.locator('figure[id^="curves-balance-log10_prob_ratio"] svg');
    expect(await balance.count()).toBe(1);
    const strokes = await balance.locator('path').evaluateAll((els) => els.map((e) => e.getAttribute('stroke')));
    for (const c of [lossColor('dpo'), lossColor('bdpo')]) expect(strokes).toContain(c);
    // crosses mark the masked pairs at mask 0.2 and 0.4 only
    expect(await p.locator('#figure2-mask0\\.0 svg path[stroke="#ff5a5a"]').count()).toBe(0);
    expect(await p.locator('#figure2-mask0\\.4 svg path[stroke="#ff5a5a"]').count()).toBeGreaterThan(0);
    for (const fig of await p.locator('figure svg').all()) {
      const box = (await fig.boundingBox())!;
      expect(box.width).toBeGreaterThan(200);
      expect(box.height).toBeGreaterThan(150);
    }
    await p.locator('#figure2-mask0\\.4').scrollIntoViewIfNeeded();
    await screenshot(p, 'table1-report-charts');
    expect(opened.errors).toEqual([]);
    expect(opened.requests).toEqual([`file://${file}`]);
    await p.close();
  });
});
