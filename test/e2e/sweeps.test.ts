/**
 * Sweeps: a Table 1 sweep rendered as the grid beside the paper's numbers, with CSV; the Table 1 preset launched from
 * the UI, a cell opening the compare view of its runs; the grid scrolling inside its panel in a narrow window;
 * sweeps over other fields than (mask, loss) as one row per cell, live and from the summary, with CSV; masks keep
 * their decimals; an unknown sweep says so.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { paperTable1 } from '@shared/paper';
import { api, openApp, screenshot, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('sweeps', () => {
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
    expect(cell).toContain(`paper ${paperTable1(0.2, 'nbdpo-symm')!.toFixed(2)}`);
    expect(cell).toContain('n=1');
    expect(await page.textContent('[data-testid="sweep-progress"]')).toContain('18/18');
    await screenshot(page, 'sweep-grid');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-grid-csv"]')]);
    const csv = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(csv[0].startsWith('mask,dpo mean,dpo std,dpo n,dpo paper')).toBe(true);
    expect(csv.length).toBe(4);
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
    // the grid opens on the paper's scale (R̃) with the paper's numbers; R raw is one click away, without them
    expect(shown).toBeCloseTo(run.final!.expectedUtilityNormalized, 6);
    expect(await page.textContent('[data-testid="cell-0.4-bdpo"]')).toContain('paper ');
    await page.click('[data-testid="grid-metric-raw"]');
    await page.waitForFunction(
      (v) => Number(document.querySelector('[data-testid="cell-0.4-bdpo"]')?.getAttribute('data-mean')) === v,
      run.final!.expectedUtility,
    );
    expect(await page.textContent('[data-testid="cell-0.4-bdpo"]')).not.toContain('paper ');
    expect(await page.textContent('[data-testid="grid-note"]')).toContain("Not on the paper's scale");
    await page.click('[data-testid="grid-metric-normalized"]');
    await page.click('[data-testid="cell-0.4-bdpo"] a');
    await page.waitForURL(new RegExp(`#/compare\\?ids=${run.id}$`));
    await page.waitForSelector('[data-testid="compare-view"]');
    await screenshot(page, 'table1-cell-compare');
    expect(errors).toEqual([]);
  });

  it('the Table 1 grid shows all six losses at 1024×700, inside its panel', async () => {
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
    // All six losses show without scrolling, sideways or down: each cell lies inside the scroller and the window.
    const cells = await page.evaluate(() => {
      const grid = document.querySelector('[data-testid="table1-grid"]')!;
      const scroller = grid.parentElement!.getBoundingClientRect();
      return [...grid.querySelectorAll('tbody tr:last-child td')].map((td) => {
        const r = td.getBoundingClientRect();
        return { id: td.getAttribute('data-testid'), inside: r.left >= scroller.left - 1 && r.right <= scroller.right + 1, bottom: r.bottom };
      });
    });
    expect(cells.length).toBe(6);
    for (const c of cells) {
      expect(c.inside, `${c.id} fits beside the others`).toBe(true);
      expect(c.bottom, `${c.id} is above the fold`).toBeLessThanOrEqual(700);
    }
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
    const csv = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
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
    const head = fs
      .readFileSync(await dl.path(), 'utf8')
      .split(/\r?\n/)[0]
      .split(',');
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
});
