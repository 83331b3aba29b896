/**
 * The run page, end to end in a real Chromium against web mode: a first run launched from the empty state (validation
 * next to the field first), drawn live with its heatmap and log, kept across a reload, exported as CSV; cancelling a
 * live run; renaming (focus, Esc cancels, Enter saves once); a run deleted elsewhere; a failed notes save; masked
 * cells and the dataset summary while the run is live, with the heatmap fetching only new frames.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT, api, finishedRun, openApp, recordCalls, screenshot, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('run page', () => {
  // First in the file: it starts from an empty lab.
  it('launches a run from the UI, draws it live, keeps it across a reload and exports CSV', async () => {
    const { page, errors } = await openApp(browser, web);

    // A newcomer sees what to do.
    await page.waitForSelector('[data-testid="empty-runs"]');
    expect(await page.textContent('[data-testid="empty-runs"]')).toContain('No runs yet');
    await screenshot(page, 'empty-state');

    // The quick preset: 200 steps after a 50-step warm-up.
    await page.click('[data-testid="empty-quick"]');
    await page.waitForSelector('[data-testid="launcher"]');
    expect(await page.inputValue('#cfg-steps')).toBe('200');
    expect(await page.inputValue('#cfg-refSteps')).toBe('50');

    // A bad value is reported next to its field, and launching is refused.
    await page.fill('#cfg-lr', '-1');
    await page.click('[data-testid="launch"]');
    const lrError = await page.waitForSelector('[data-testid="error-lr"]');
    expect(await lrError.textContent()).toMatch(/lr must be positive/);
    expect(page.url()).toContain('#/experiments');
    await page.fill('#cfg-lr', '0.01');
    await until(async () => !(await page.$('[data-testid="error-lr"]')), 'the lr error to clear', 5000);

    // Some cells masked, so the heatmap shows hatching in the README picture.
    await page.fill('#cfg-mask', '0.2');
    await page.click('[data-testid="launch"]');
    await page.waitForURL(/#\/runs\/\d+$/);
    const runId = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    await page.waitForSelector('[data-testid="run-view"]');

    // Points reach the loss chart while the run goes; the heatmap gets frames.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 60_000,
    });
    const statuses = await waitForRuns(web, [runId]);
    expect(statuses).toEqual(['done']);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]', { timeout: 10_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="heatmap"]')?.getAttribute('data-frames')) > 1, null, {
      timeout: 15_000,
    });
    const stored = web.lab.store.metrics.series(runId, { names: ['loss'] }).loss;
    const drawn = () =>
      page.evaluate(() => {
        const hooks = (window as unknown as { __dpoLab: { charts: Map<string, { getOption(): { series: { data: unknown[] }[] } }> } }).__dpoLab;
        const loss = hooks.charts.get('chart-loss')!.getOption().series[0].data.length;
        const balance = hooks.charts.get('chart-balance')!.getOption().series[0].data.length;
        return { loss, balance };
      });
    // Live rows may still be on their way (or a dropped stream resyncing) when the run's status says done.
    const points = await until(
      async () => {
        const p = await drawn();
        return p.loss === stored.steps.length ? p : null;
      },
      `the loss chart to hold all ${stored.steps.length} stored rows`,
      20_000,
    );
    expect(points.loss).toBeGreaterThanOrEqual(150);
    expect(points.balance).toBeGreaterThan(0);
    // The run's log, followed live, ends with its outcome.
    await page.waitForFunction(() => /done after/.test(document.querySelector('[data-testid="run-log"]')?.textContent ?? ''), null, { timeout: 10_000 });
    const logText = (await page.textContent('[data-testid="run-log"]')) ?? '';
    expect(logText).toMatch(/queued/);
    expect(logText).toMatch(/dataset drawn from seed 0: 2000 pairs, 80 masked cells/);
    // Let the final frame and the dataset (masked cells) settle, then take the README picture.
    await page.waitForTimeout(800);
    const shot = await screenshot(page, 'live-run');
    fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
    fs.copyFileSync(shot, path.join(ROOT, 'docs/screenshot.png'));

    // The heatmap replays: the slider moves the shown step.
    const lastStep = await page.getAttribute('[data-testid="heatmap"]', 'data-step');
    await page.fill('[data-testid="heatmap-slider"]', '0');
    await until(async () => (await page.getAttribute('[data-testid="heatmap"]', 'data-step')) !== lastStep, 'the heatmap to show frame 0', 5000);

    // Reload: the run is still there.
    await page.reload();
    await page.click('[data-testid="nav-runs"]');
    await page.waitForSelector(`[data-testid="run-row-${runId}"]`);
    expect(await page.textContent(`[data-testid="run-row-${runId}"]`)).toContain('done');

    // Export CSV from the run page: a browser download.
    await page.click(`[data-testid="open-${runId}"]`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-csv"]')]);
    expect(download.suggestedFilename()).toBe(`run-${runId}-metrics.csv`);
    const file = await download.path();
    const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('run_id,step,name,value');
    expect(lines.length).toBeGreaterThan(200);
    expect(lines.slice(1).every((l) => l.startsWith(`${runId},`))).toBe(true);
    expect(lines.some((l) => /,loss,/.test(l))).toBe(true);

    expect(errors).toEqual([]);
  });

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

  it('rename: the field takes the typing (no shortcut), Enter saves once, Esc cancels', async () => {
    const id = await finishedRun(web, 'old name');
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

  it('a run deleted elsewhere: its page says so in place, the list drops it, no 404s', async () => {
    const id = await finishedRun(web, 'to be deleted');
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
    const id = await finishedRun(web, 'notes run');
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
    // As if the page opened before the worker stored the dataset: the lab answers null to the first ask; the
    // page then waits for the dataset's run:artifact event (no polling) and asks again.
    const { page, errors } = await openApp(browser, web, '#/runs');
    const snapshots = recordCalls(page, 'runs:snapshots');
    let datasetAsks = 0;
    await page.route('**/api/runs:dataset', (route) =>
      ++datasetAsks <= 1 ? route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true, value: null }) }) : route.continue(),
    );
    await page.evaluate((h) => (location.hash = h), `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"]');
    for (let i = 0; i < 100 && datasetAsks < 1; i++) await new Promise((r) => setTimeout(r, 100));
    await page.evaluate((runId) => {
      const hooks = (window as unknown as { __dpoLab: { injectEvent(e: unknown): void } }).__dpoLab;
      hooks.injectEvent({ type: 'run:artifact', runId, kind: 'dataset' });
    }, id);
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
    expect(datasetAsks).toBeGreaterThanOrEqual(2);
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
});
