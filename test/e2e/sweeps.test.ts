/**
 * Compare follows a selection that changes while it is open (charts redraw from the new runs, a running run keeps
 * updating); labels and seed groups tell apart configs that differ in any field; the CSV names the loss function
 * `loss_fn`. Sweeps that vary other fields than (mask, loss) render one row per cell, live and from the summary,
 * with CSV export; masks keep their decimals; an unknown sweep says so; the grid scrolls in a narrow window.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { api, openApp, screenshot, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

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

describe('compare and sweeps fixes', () => {
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

  it('a sweep over lr: one row per lr, live and from the summary; CSV; compare labels tell lr apart', async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      grid: { lr: [0.001, 0.1] },
      seeds: 2,
      base: { steps: 30, refSteps: 5 },
    });
    expect(runIds.length).toBe(4);
    expect((await waitForRuns(web, runIds)).every((s) => s === 'done')).toBe(true);
    await until(async () => (await api<{ status: string; summary: unknown }>(web, 'sweeps:get', { id: sweepId })).summary, 'the sweep summary');

    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`, { width: 1024, height: 700 });
    await page.waitForSelector('[data-testid="sweep-cells-table"]');
    expect(await page.$('[data-testid="table1-grid"]')).toBeNull();
    const rows = await page.$$eval('[data-testid="sweep-cells-table"] tbody tr', (trs) =>
      trs.map((tr) => ({ key: JSON.parse(tr.getAttribute('data-key')!), n: Number(tr.getAttribute('data-n')), mean: tr.getAttribute('data-mean') })),
    );
    expect(rows.map((r) => r.key)).toEqual([{ lr: 0.001 }, { lr: 0.1 }]);
    expect(rows.every((r) => r.n === 2 && r.mean !== '')).toBe(true);
    const heads = await page.$$eval('[data-testid="sweep-cells-table"] thead th', (ths) => ths.map((th) => th.textContent!.trim()));
    expect(heads.slice(0, 3)).toEqual(['lr', 'n', 'expectedUtility']);
    await screenshot(page, 'sweep-lr-cells');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-grid-csv"]')]);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
    expect(csv[0].startsWith('lr,n,pending,expectedUtility mean,expectedUtility std')).toBe(true);
    expect(csv.length).toBe(3);

    // A row opens compare of its two seeds.
    await page.click('[data-testid="sweep-cell-1"]');
    await page.waitForURL(/#\/compare\?ids=/);
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-view"] h1')?.textContent?.includes('Compare 2 runs'));

    // Compare all: labels carry lr, seed groups split by lr, CSV names the loss function loss_fn.
    await page.goto(`${web.server.url}#/compare?ids=${runIds.join(',')}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-table"] tbody tr').length === 2, null, { timeout: 20_000 });
    const legend = await page.$$eval('[data-testid="compare-view"] .legend a', (as) => as.map((a) => a.textContent!.trim()));
    expect(legend.filter((l) => l.includes('lr=0.001')).length).toBe(2);
    expect(legend.filter((l) => l.includes('lr=0.1')).length).toBe(2);
    const groups = await page.textContent('[data-testid="group-table"]');
    expect(groups).toContain('lr=0.001');
    expect(groups).toContain('lr=0.1');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-compare-csv"]')]);
    const head = fs.readFileSync(await dl.path(), 'utf8').split(/\r?\n/)[0].split(',');
    expect(head.slice(0, 5)).toEqual(['run_id', 'name', 'loss_fn', 'seed', 'status']);
    expect(head.filter((h) => h === 'loss').length).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a running mask sweep groups its runs here, masks keep their decimals; unknown sweeps say so', async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      grid: { mask: [0.25, 0.3, 0.35] },
      seeds: 1,
      base: { steps: 50_000, refSteps: 5 },
    });
    expect(runIds.length).toBe(3);
    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    await page.waitForSelector('[data-testid="sweep-cells-table"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="sweep-cells-table"] tbody tr').length === 3);
    const keys = await page.$$eval('[data-testid="sweep-cells-table"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(keys).toEqual(['{"mask":0.25}', '{"mask":0.3}', '{"mask":0.35}']);
    const labels = await page.$$eval('[data-testid="sweep-cells-table"] tbody tr td:first-child', (tds) => tds.map((td) => td.textContent!.trim()));
    expect(labels).toEqual(['0.25', '0.3', '0.35']);
    await api(web, 'sweeps:cancel', { id: sweepId });
    await waitForRuns(web, runIds);

    await page.goto(`${web.server.url}#/sweeps/999`);
    await page.waitForSelector('[data-testid="sweep-not-found"]');
    expect(await page.textContent('[data-testid="sweep-not-found"]')).toContain('999');
    expect(await page.$('[data-testid="sweep-progress"]')).toBeNull();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the Table 1 grid scrolls inside its panel at 1024×700', async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      preset: 'table1',
      seeds: 1,
      steps: 20,
      base: { refSteps: 5, evalEvery: 10 },
    });
    await waitForRuns(web, runIds, 120_000);
    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`, { width: 1024, height: 700 });
    await page.waitForSelector('[data-testid="table1-grid"]');
    const box = await page.evaluate(() => {
      const grid = document.querySelector('[data-testid="table1-grid"]')!;
      const scroller = grid.parentElement!;
      const panel = scroller.closest('.panel')!;
      return {
        panelRight: panel.getBoundingClientRect().right,
        width: window.innerWidth,
        scroll: getComputedStyle(scroller).overflowX,
        headers: [...grid.querySelectorAll('thead th')].map((th) => th.textContent!.trim()),
      };
    });
    expect(box.panelRight).toBeLessThanOrEqual(box.width);
    expect(box.scroll).toBe('auto');
    expect(box.headers.some((h) => h.includes('bdpo'))).toBe(true);
    // The last column can be scrolled into view.
    await page.locator('[data-testid="table1-grid"] thead th').last().scrollIntoViewIfNeeded();
    expect(await page.locator('[data-testid="table1-grid"] thead th').last().isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
