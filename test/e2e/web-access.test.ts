/**
 * The foundation slice, end to end in a real Chromium against web mode: token guard, empty state, a short
 * run launched from the UI (validation next to the field first), live charts and heatmap, persistence across
 * a reload, CSV export through the browser's download.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT, openApp, screenshot, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('foundation slice', () => {
  it('refuses requests without the token', async () => {
    const base = `http://127.0.0.1:${web.server.port}`;
    const apiRes = await fetch(`${base}/api/app:info`, { method: 'POST', body: '{}' });
    expect(apiRes.status).toBe(401);
    const body = (await apiRes.json()) as { ok: boolean };
    expect(body.ok).toBe(false);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(401);
    const events = await fetch(`${base}/api/events`);
    expect(events.status).toBe(401);
  });

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
    const points = await page.evaluate(() => {
      const hooks = (window as unknown as { __dpoLab: { charts: Map<string, { getOption(): { series: { data: unknown[] }[] } }> } }).__dpoLab;
      const loss = hooks.charts.get('chart-loss')!.getOption().series[0].data.length;
      const balance = hooks.charts.get('chart-balance')!.getOption().series[0].data.length;
      return { loss, balance };
    });
    expect(points.loss).toBeGreaterThanOrEqual(150);
    expect(points.balance).toBeGreaterThan(0);
    const stored = web.lab.store.metrics.series(runId, { names: ['loss'] }).loss;
    expect(points.loss).toBe(stored.steps.length);
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
});
