/** Cancelling a live run, and comparing finished runs: final-metrics table, config diff, CSV export. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT, api, openApp, screenshot, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('runs', () => {
  it('cancels a running run from its page', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 50_000, refSteps: 10, evalEvery: 50 },
      name: 'long run to cancel',
    });
    const id = runIds[0];
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="running"]', { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 60_000,
    });
    // The rail shows one running run.
    expect(await page.textContent('[data-testid="running-badge"]')).toBe('1');
    await page.click('[data-testid="cancel-run"]');
    await page.waitForSelector('[data-testid="run-view"][data-status="cancelled"]', { timeout: 30_000 });
    expect(await waitForRuns(web, [id])).toEqual(['cancelled']);
    await page.waitForSelector('[data-testid="running-badge"]', { state: 'detached', timeout: 10_000 });
    await screenshot(page, 'cancelled-run');
    expect(errors).toEqual([]);
  });

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
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
    expect(csv[0].startsWith('run_id,name,loss_fn,seed,status,expectedUtility')).toBe(true);
    expect(csv.length).toBe(3);
    expect(errors).toEqual([]);
  });
});

describe('runs list', () => {
  it('searches with /, tags a run, clones its config, and deletes with confirmation', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 40, refSteps: 10, evalEvery: 20, mask: 0.2, lr: 0.02, seed: 3 },
      name: 'needle run',
    });
    const id = runIds[0];
    await waitForRuns(web, [id]);
    const { page, errors } = await openApp(browser, web, '#/runs');
    await page.waitForSelector(`[data-testid="run-row-${id}"]`);

    // "/" focuses the search box; the list filters as one types.
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('runs-search');
    await page.keyboard.type('needle');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="runs-table"] tbody tr[data-testid^="run-row-"]').length === 1);
    await page.keyboard.press('Escape');

    // Tag it on its page, then filter the list by that tag.
    await page.click(`[data-testid="open-${id}"]`);
    await page.waitForSelector('[data-testid="run-view"]');
    await page.fill('[data-testid="tag-input"]', 'keeper');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="tag-editor"]')?.textContent?.includes('keeper'));
    expect(web.lab.store.runs.get(id)!.tags).toEqual(['keeper']);

    // Clone config: the launcher opens with this run's values.
    await page.click('[data-testid="clone-run"]');
    await page.waitForSelector('[data-testid="launcher"]');
    await page.waitForFunction(() => (document.querySelector('#cfg-mask') as HTMLInputElement | null)?.value === '0.2');
    expect(await page.inputValue('#cfg-lr')).toBe('0.02');
    expect(await page.inputValue('#cfg-seed')).toBe('3');
    expect(await page.inputValue('#cfg-steps')).toBe('40');

    await page.click('[data-testid="nav-runs"]');
    await page.selectOption('[data-testid="filter-tag"]', 'keeper');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="runs-table"] tbody tr[data-testid^="run-row-"]').length === 1);

    // Delete: Esc cancels the confirmation, OK deletes.
    await page.check(`[data-testid="select-${id}"]`);
    await page.click('[data-testid="delete-selected"]');
    await page.waitForSelector('[data-testid="confirm-dialog"]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="confirm-dialog"]', { state: 'detached' });
    expect(web.lab.store.runs.get(id)).toBeDefined();
    await page.click('[data-testid="delete-selected"]');
    await page.click('[data-testid="confirm-ok"]');
    await page.waitForSelector(`[data-testid="run-row-${id}"]`, { state: 'detached' });
    expect(web.lab.store.runs.get(id)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
