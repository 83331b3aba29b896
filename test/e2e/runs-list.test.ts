/** The runs list: search with /, tags, cloning a run's config, deleting with confirmation. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, openApp, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
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
    // The mask column comes from the config the summary carries ("needle run" does not name its mask).
    const maskCell = await page.$eval(`[data-testid="run-row-${id}"]`, (tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()).includes('0.2'),
    );
    expect(maskCell).toBe(true);

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

  it("a sweep's runs collapse into one row that expands; the sweep filter lists only that sweep", async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      name: 'grouped sweep',
      grid: { loss: ['dpo', 'bdpo'], mask: [0, 0.2] },
      seeds: 1,
      base: { steps: 10, refSteps: 5, evalEvery: 5, K: 6 },
    });
    expect(runIds.length).toBe(4);
    const { runIds: solo } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 10, refSteps: 5, evalEvery: 5, K: 6 },
      name: 'not in a sweep',
    });
    await waitForRuns(web, [...runIds, ...solo]);
    const { page, errors } = await openApp(browser, web, '#/runs');
    const runRows = () => page.$$eval('[data-testid="runs-table"] tbody tr[data-testid^="run-row-"]', (trs) => trs.map((t) => t.getAttribute('data-testid')));
    await page.waitForSelector(`[data-testid="sweep-row-${sweepId}"]`);
    await page.waitForSelector(`[data-testid="run-row-${solo[0]}"]`);
    // One row for the sweep (its name, run count, status counts), none of its runs listed.
    const head = (await page.textContent(`[data-testid="sweep-row-${sweepId}"]`))!;
    expect(head).toContain('grouped sweep');
    expect(head).toContain('4 runs');
    expect(head).toContain('4 done');
    for (const id of runIds) expect(await runRows()).not.toContain(`run-row-${id}`);

    // Expanding lists them under it; collapsing hides them again.
    await page.click(`[data-testid="expand-sweep-${sweepId}"]`);
    for (const id of runIds) await page.waitForSelector(`[data-testid="run-row-${id}"]`);
    await page.click(`[data-testid="expand-sweep-${sweepId}"]`);
    await page.waitForSelector(`[data-testid="run-row-${runIds[0]}"]`, { state: 'detached' });

    // The sweep filter: exactly its four runs, one row each.
    await page.selectOption('[data-testid="filter-sweep"]', String(sweepId));
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="runs-table"] tbody tr[data-testid^="run-row-"]').length === n, runIds.length);
    expect((await runRows()).sort()).toEqual(runIds.map((id) => `run-row-${id}`).sort());
    expect(await page.$(`[data-testid="sweep-row-${sweepId}"]`)).toBeNull();
    expect(errors).toEqual([]);
  });
});
