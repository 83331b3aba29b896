/**
 * The Table 1 report file opens in Chromium from disk with no console error, no failed or outside request (the
 * only request is the file itself), and its tables and sentence are there to read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { summariseRuns } from '@shared/sweeps';
import { summariseSensitivity } from '@shared/sensitivity';
import { PAPER_LOSSES } from '@shared/losses';
import { table1ReportHtml } from '../../src-main/report/table1-report';
import { launchChromium, screenshot } from './harness';

let browser: Browser;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-report-'));
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

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

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');
    expect(await page.locator('table').count()).toBe(4); // Table 1 (R̃), raw R, sensitivity, settings
    expect(await page.textContent('.sentence')).toMatch(/^dpo ranks first in 3 of 3 settings\./);
    expect(await page.locator('a[download="table1.csv"]').count()).toBe(1);
    await screenshot(page, 'table1-report');
    expect(errors).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    await page.close();
  });
});
