/** Measures the live run page's frame time with 20k points per series (see test/bench/chart-frame.ts). */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT, api, openApp, screenshot, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';
import { measureChartFrame } from '../bench/chart-frame';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('live chart performance', () => {
  it('keeps the run page responsive at 20k points per series', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', { kind: 'synthetic', config: { steps: 20, refSteps: 5, evalEvery: 10 } });
    await waitForRuns(web, runIds);
    const { page, errors } = await openApp(browser, web, `#/runs/${runIds[0]}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0);
    const stats = await measureChartFrame(page, { runId: runIds[0], pointsPerSeries: 20_000 });
    const f = (x: number) => x.toFixed(1);
    process.stdout.write(
      `chart-frame: ${stats.charts} charts, ${stats.series} series × ${stats.pointsPerSeries} points; ` +
        `frame interval mean ${f(stats.interval.mean)} ms, p50 ${f(stats.interval.p50)}, p95 ${f(stats.interval.p95)}, max ${f(stats.interval.max)}; ` +
        `redraw work per frame mean ${f(stats.redraw.mean)} ms, p95 ${f(stats.redraw.p95)}; ` +
        `one chart redraw mean ${f(stats.singleChartRedraw.mean)} ms (p95 ${f(stats.singleChartRedraw.p95)}), ` +
        `same chart fed all raw points ${f(stats.singleChartRaw.mean)} ms (p95 ${f(stats.singleChartRaw.p95)})\n`,
    );
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-results/chart-frame.json'), JSON.stringify(stats, null, 2));
    await screenshot(page, 'chart-20k');
    expect(stats.pointsPerSeries).toBeGreaterThanOrEqual(20_000);
    // Generous bound for a 2-core machine with software rendering; the number itself is the result.
    expect(stats.interval.p50).toBeLessThan(100);
    expect(errors).toEqual([]);
  });
});
