/**
 * Comparing runs: two finished runs (final metrics with the best in bold, config diff, smoothing, CSV); the Figure 2
 * preset training DPO and bDPO side by side into compare, with log-y and a PNG export; a selection changed while
 * compare is open (charts redraw from the new runs, a running run keeps updating, the last selection wins).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, api, openApp, screenshot, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

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

type Hooks = { charts: Map<string, { isDisposed(): boolean; getOption(): { series: { id: string; data: unknown[] }[] } }> };

/** The raw series of one compare chart: run id → number of points drawn. */
async function drawn(page: Page, metric: string): Promise<Record<string, number>> {
  return page.evaluate((m) => {
    const c = (window as unknown as { __dpoLab?: Hooks }).__dpoLab?.charts.get(`compare-chart-${m}`);
    if (!c || c.isDisposed()) return {};
    const out: Record<string, number> = {};
    for (const s of c.getOption().series ?? []) if (String(s.id).startsWith('raw-')) out[String(s.id).slice(4)] = s.data?.length ?? 0;
    return out;
  }, metric);
}

/** Waits until the chart draws exactly these runs, each with points. */
async function waitDrawn(page: Page, metric: string, ids: number[]): Promise<Record<string, number>> {
  const want = ids.map(String).sort().join();
  return until(
    async () => {
      const d = await drawn(page, metric);
      const keys = Object.keys(d).sort().join();
      return keys === want && Object.values(d).every((n) => n > 0) ? d : null;
    },
    `${metric} chart to draw runs ${want}`,
    30_000,
    150,
  );
}

async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

describe('compare', () => {
  it('compares two runs: final metrics, config diff and CSV', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 120, refSteps: 30, evalEvery: 20 },
      losses: ['dpo', 'bdpo'],
      tags: ['compare-test'],
    });
    expect(await waitForRuns(web, runIds)).toEqual(['done', 'done']);

    const { page, errors } = await openApp(browser, web, '#/runs');
    for (const id of runIds) await page.check(`[data-testid="select-${id}"]`);
    await page.keyboard.press('c');
    await page.waitForURL(/#\/compare\?ids=/);
    const table = await page.waitForSelector('[data-testid="final-table"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="final-table"] tbody tr').length === 2);

    const read = await table.evaluate((t) => {
      const heads = [...t.querySelectorAll('thead th')].map((th) => th.getAttribute('data-metric') ?? th.textContent!.trim());
      const rows = [...t.querySelectorAll('tbody tr')].map((tr) => ({
        loss: tr.querySelector('[data-loss]')?.getAttribute('data-loss'),
        cells: Object.fromEntries([...tr.querySelectorAll('td[data-metric]')].map((td) => [td.getAttribute('data-metric'), td.textContent!.trim()])),
        bold: [...tr.querySelectorAll('td.best')].map((td) => td.getAttribute('data-metric')),
      }));
      return { heads, rows };
    });
    expect(read.heads).toContain('expectedUtility');
    expect(read.rows.map((r) => r.loss).sort()).toEqual(['bdpo', 'dpo']);
    for (const r of read.rows) expect(Number(r.cells.expectedUtility.replace('−', '-'))).toBeGreaterThan(0);
    // Exactly one run is bold for expectedUtility: the one with the larger value.
    const finals = runIds.map((id) => web.lab.store.runs.get(id)!.final!.expectedUtility);
    const bestLoss = finals[0] >= finals[1] ? 'dpo' : 'bdpo';
    expect(read.rows.filter((r) => r.bold.includes('expectedUtility')).map((r) => r.loss)).toEqual([bestLoss]);

    // Config diff: only the loss differs.
    const diffKeys = await page.$$eval('[data-testid="config-diff"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(diffKeys).toEqual(['loss']);

    // Overlaid curves have both runs' points.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="compare-chart-expectedUtility"]')?.getAttribute('data-points')) > 0);

    // Smoothing changes the drawn curve but not the table.
    await page.fill('[data-testid="smoothing"]', '0.8');
    await page.waitForTimeout(200);
    const shot = await screenshot(page, 'compare');
    fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
    fs.copyFileSync(shot, path.join(ROOT, 'docs/compare.png'));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-compare-csv"]')]);
    const csv = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(csv[0].startsWith('run_id,name,loss_fn,seed,status,expectedUtility')).toBe(true);
    expect(csv.length).toBe(3);
    expect(errors).toEqual([]);
  });

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
    const ids = decodeURIComponent(/ids=([^&]+)/.exec(page.url())![1])
      .split(',')
      .map(Number);
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

  it('compare follows a selection changed in place, keeps a running run live, labels differing configs', async () => {
    const { runIds: six } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 40, refSteps: 5, evalEvery: 10 },
      losses: ['dpo', 'bdpo', 'nbdpo-asymm', 'nbdpo-symm', 'nbdpo2-asymm', 'nbdpo2-symm'],
    });
    expect(six.length).toBe(6);
    expect((await waitForRuns(web, six)).every((s) => s === 'done')).toBe(true);

    const { page, errors } = await openApp(browser, web, `#/compare?ids=${six.join(',')}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-view"] h1')?.textContent?.includes('Compare 6 runs'));
    await waitDrawn(page, 'expectedUtility', six);

    // Narrow the selection without a reload, then widen it again: the charts follow both times.
    await go(page, `#/compare?ids=${six.slice(0, 3).join(',')}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-view"] h1')?.textContent?.includes('Compare 3 runs'));
    await waitDrawn(page, 'expectedUtility', six.slice(0, 3));
    await go(page, `#/compare?ids=${six.join(',')}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-view"] h1')?.textContent?.includes('Compare 6 runs'));
    await waitDrawn(page, 'expectedUtility', six);
    await waitDrawn(page, 'loss', six);

    // Quick switches back and forth: the last selection wins.
    await go(page, `#/compare?ids=${six.slice(0, 2).join(',')}`);
    await go(page, `#/compare?ids=${six.slice(0, 4).join(',')}`);
    await go(page, `#/compare?ids=${six.slice(0, 2).join(',')}`);
    await go(page, `#/compare?ids=${six.slice(0, 5).join(',')}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-view"] h1')?.textContent?.includes('Compare 5 runs'));
    await waitDrawn(page, 'loss', six.slice(0, 5));
    await page.waitForTimeout(500);
    expect(await page.textContent('[data-testid="compare-view"] h1')).toContain('Compare 5 runs');
    expect(Object.keys(await drawn(page, 'loss')).sort()).toEqual(six.slice(0, 5).map(String).sort());

    // A running run added in place keeps growing on the chart.
    const { runIds: live } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 50_000, refSteps: 5, evalEvery: 50 },
      name: 'live run for compare',
    });
    const running = live[0];
    await until(() => web.lab.store.runs.statusOf(running) === 'running', 'the live run to start', 60_000);
    await go(page, `#/compare?ids=${[...six.slice(0, 2), running].join(',')}`);
    const first = await waitDrawn(page, 'loss', [...six.slice(0, 2), running]);
    await until(async () => ((await drawn(page, 'loss'))[running] ?? 0) > first[running] + 5, 'the live run to grow on the chart', 30_000, 200);
    await api(web, 'runs:cancel', { id: running });
    expect(await waitForRuns(web, [running])).toEqual(['cancelled']);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
