/**
 * Fixes from exploratory testing of the run page and the launcher: renaming (focus, Esc cancels, Enter saves
 * once), a deleted run reaching other open views, a failed notes save, masked cells and the dataset summary while
 * the run is live (with the heatmap fetching only new frames), shortcuts held back behind a dialog, and the
 * launcher's plain validation messages.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

async function finishedRun(name: string): Promise<number> {
  const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
    kind: 'synthetic',
    config: { steps: 30, refSteps: 5, evalEvery: 10 },
    name,
  });
  expect(await waitForRuns(web, runIds)).toEqual(['done']);
  return runIds[0];
}

/** Counts the requests the page sends for one command, with their JSON bodies. */
function recordCalls(page: Page, command: string): unknown[] {
  const bodies: unknown[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith(`/api/${command}`)) bodies.push(JSON.parse(r.postData() ?? '{}'));
  });
  return bodies;
}

describe('run page fixes', () => {
  it('rename: the field takes the typing (no shortcut), Enter saves once, Esc cancels', async () => {
    const id = await finishedRun('old name');
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    const updates = recordCalls(page, 'runs:update');

    await page.dblclick('[data-testid="run-name"]');
    await page.waitForSelector('[data-testid="run-name-input"]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('run-name-input');
    // The old name is selected, so typing replaces it; `n` must not open the launcher.
    await page.keyboard.type('new name');
    expect(page.url()).toMatch(new RegExp(`#/runs/${id}$`));
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="run-name"]')?.textContent === 'new name');
    await page.waitForTimeout(400);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ id, name: 'new name' });
    expect(web.lab.store.runs.get(id)!.name).toBe('new name');

    // Esc cancels: nothing is sent and the name stays.
    await page.dblclick('[data-testid="run-name"]');
    await page.waitForSelector('[data-testid="run-name-input"]');
    await page.keyboard.type('discarded');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="run-name"]');
    await page.waitForTimeout(300);
    expect(await page.textContent('[data-testid="run-name"]')).toBe('new name');
    expect(updates).toHaveLength(1);
    expect(web.lab.store.runs.get(id)!.name).toBe('new name');

    // Leaving the field saves too (once).
    await page.dblclick('[data-testid="run-name"]');
    await page.keyboard.type('blurred name');
    await page.click('[data-testid="run-config"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="run-name"]')?.textContent === 'blurred name');
    await page.waitForTimeout(300);
    expect(updates).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('letter shortcuts wait while a confirm dialog is open', async () => {
    const id = await finishedRun('dialog run');
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    await page.click('[data-testid="delete-run"]');
    await page.waitForSelector('[data-testid="confirm-dialog"]');
    await page.keyboard.press('n');
    await page.keyboard.press('/');
    await page.waitForTimeout(200);
    expect(page.url()).toMatch(new RegExp(`#/runs/${id}$`));
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="confirm-dialog"]', { state: 'detached' });
    expect(web.lab.store.runs.get(id)).toBeTruthy();
    await page.keyboard.press('n');
    await page.waitForSelector('[data-testid="launcher"]');
    expect(errors).toEqual([]);
  });

  it('a run deleted elsewhere: its page says so in place, the list drops it, no 404s', async () => {
    const id = await finishedRun('to be deleted');
    const runPage = await openApp(browser, web, `#/runs/${id}`);
    await runPage.page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    await runPage.page.waitForFunction(() => Number(document.querySelector('[data-testid="heatmap"]')?.getAttribute('data-frames')) > 0);
    const listPage = await openApp(browser, web, '#/runs');
    await listPage.page.waitForSelector(`[data-testid="run-row-${id}"]`);

    await api(web, 'runs:delete', { id });

    await runPage.page.waitForSelector('[data-testid="run-deleted"]', { timeout: 10_000 });
    expect(await runPage.page.textContent('[data-testid="run-deleted"]')).toContain('This run was deleted');
    for (const b of ['delete-run', 'clone-run', 'export-csv']) expect(await runPage.page.isDisabled(`[data-testid="${b}"]`)).toBe(true);
    // Still on the run's page, its name still shown.
    expect(await runPage.page.textContent('[data-testid="run-name"]')).toBe('to be deleted');
    await listPage.page.waitForSelector(`[data-testid="run-row-${id}"]`, { state: 'detached', timeout: 10_000 });
    await runPage.page.waitForTimeout(500);
    expect(runPage.errors).toEqual([]);
    expect(listPage.errors).toEqual([]);
  });

  it('a failed notes save clears "saving…" and shows the error', async () => {
    const id = await finishedRun('notes run');
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    await page.route('**/api/runs:update', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ ok: false, error: { code: 'internal', message: 'disk is full' } }),
      }),
    );
    await page.fill('[data-testid="run-notes"]', 'an observation');
    await page.waitForSelector('[data-testid="notes-error"]', { timeout: 5_000 });
    expect(await page.textContent('[data-testid="notes-error"]')).toContain('disk is full');
    expect((await page.textContent('[data-testid="notes-state"]'))?.trim()).toBe('');

    // Typing again retries; once the lab accepts it, the error goes and "saved" shows.
    await page.unroute('**/api/runs:update');
    await page.fill('[data-testid="run-notes"]', 'an observation, saved');
    await page.waitForFunction(() => document.querySelector('[data-testid="notes-state"]')?.textContent?.trim() === 'saved', null, { timeout: 5_000 });
    expect(await page.$('[data-testid="notes-error"]')).toBeNull();
    expect(web.lab.store.runs.get(id)!.notes).toBe('an observation, saved');
    expect(errors).toEqual([]);
  });

  it('masked cells and the dataset summary show while the run is live; the heatmap fetches only new frames', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 50_000, refSteps: 10, evalEvery: 20, mask: 0.2 },
      name: 'live mask',
    });
    const id = runIds[0];
    // As if the page opened before the worker stored the dataset (about a second after the start): the lab
    // answers null to the first two asks, then the real dataset.
    const { page, errors } = await openApp(browser, web, '#/runs');
    const snapshots = recordCalls(page, 'runs:snapshots');
    let datasetAsks = 0;
    await page.route('**/api/runs:dataset', (route) =>
      ++datasetAsks <= 2
        ? route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true, value: null }) })
        : route.continue(),
    );
    await page.evaluate((h) => (location.hash = h), `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"]');
    await page.waitForSelector('[data-testid="dataset-summary"]', { timeout: 30_000 });
    expect(web.lab.store.runs.statusOf(id)).toBe('running');
    expect(await page.textContent('[data-testid="dataset-summary"]')).toMatch(/\d+ masked cells of 400/);
    await page.waitForFunction(() => /masked cells hatched/.test(document.querySelector('[data-testid="heatmap"]')?.textContent ?? ''));

    // Several frames arrive; once the heatmap holds a frame, every fetch asks only for frames after the last held.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="heatmap"]')?.getAttribute('data-frames')) >= 4, null, {
      timeout: 30_000,
    });
    const bodies = snapshots as { afterStep?: number }[];
    await until(() => bodies.filter((b) => typeof b.afterStep === 'number').length >= 2, 'two incremental snapshot fetches', 20_000);
    const first = bodies.findIndex((b) => typeof b.afterStep === 'number');
    expect(first).toBeGreaterThanOrEqual(1);
    const later = bodies.slice(first).map((b) => b.afterStep);
    expect(later.length).toBeGreaterThan(1);
    for (const a of later) expect(typeof a).toBe('number');
    expect([...later].sort((x, y) => x! - y!)).toEqual(later);
    expect(datasetAsks).toBeGreaterThan(2);
    // The frames held match what the lab stored so far, with no repeats: the slider's count never exceeds it.
    const held = Number(await page.getAttribute('[data-testid="heatmap"]', 'data-frames'));
    const all = await api<{ steps: number[] }>(web, 'runs:snapshots', { id, name: 'probs' });
    expect(held).toBeLessThanOrEqual(all.steps.length);
    expect(new Set(all.steps.slice(0, held)).size).toBe(held);

    await api(web, 'runs:cancel', { id });
    expect(await waitForRuns(web, [id])).toEqual(['cancelled']);
    await page.waitForSelector('[data-testid="run-view"][data-status="cancelled"]');
    expect(errors).toEqual([]);
  });

  it('launcher: plain validation messages, a K² warning, tag length next to the tags field, Table 1 seeds', async () => {
    const { page, errors } = await openApp(browser, web, '#/experiments');
    await page.waitForSelector('[data-testid="launcher"]');
    await page.fill('#cfg-K', '2.5');
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="error-K"]');
    expect(await page.textContent('[data-testid="error-K"]')).toBe('K must be a whole number');
    await page.fill('#cfg-K', '600');
    await page.waitForFunction(() => document.querySelector('[data-testid="error-K"]')?.textContent === 'K must be at most 512');
    await page.fill('#cfg-K', '200');
    await page.waitForSelector('[data-testid="error-K"]', { state: 'detached' });
    expect(await page.textContent('[data-testid="warning-K"]')).toContain('K²');
    await page.fill('#cfg-K', '20');
    await page.waitForSelector('[data-testid="warning-K"]', { state: 'detached' });

    await page.fill('[data-testid="field-tags"]', `ok, ${'x'.repeat(60)}`);
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="error-tags"]');
    expect(await page.textContent('[data-testid="error-tags"]')).toContain('at most 50 characters');
    expect(page.url()).toMatch(/#\/experiments/);

    await page.fill('[data-testid="table1-seeds"]', '25');
    await page.waitForSelector('[data-testid="error-table1-seeds"]');
    expect(await page.isDisabled('[data-testid="preset-table1"]')).toBe(true);
    expect(await page.textContent('[data-testid="preset-table1"]')).not.toMatch(/Launch \d+ runs/);
    await page.fill('[data-testid="table1-seeds"]', '2');
    await page.waitForSelector('[data-testid="error-table1-seeds"]', { state: 'detached' });
    expect((await page.textContent('[data-testid="preset-table1"]'))?.trim()).toBe('Launch 36 runs');
    expect(errors).toEqual([]);
  });
});
