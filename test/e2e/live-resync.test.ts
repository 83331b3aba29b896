/**
 * A live run page across a server restart: the event stream drops, rows keep coming into the store meanwhile, and
 * once the stream is back the page fills the gap from the store. The resync's answer is held back a little, so live
 * rows arrive before it: they must not push the curve past the rows the resync brings.
 */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer } from '../../src-main/server/server';
import { RENDERER_DIR, api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

type Hooks = { __dpoLab: { charts: Map<string, { getOption(): { series: { data: [number, number | null][] }[] } }> } };

describe('live run page across a lost event stream', () => {
  it('resyncs from the store after the stream comes back, with live rows arriving first: no gap in the curve', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 20_000, refSteps: 5, evalEvery: 500, K: 8 },
      name: 'through a restart',
    });
    const runId = runIds[0];
    const { page } = await openApp(browser, web, `#/runs/${runId}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 60_000,
    });
    const storedLoss = () => web.lab.store.metrics.series(runId, { names: ['loss'] }).loss?.steps.length ?? 0;
    const { port, token } = web.server;
    const before = storedLoss();
    await web.server.close();
    await until(() => storedLoss() > before + 300 || null, 'rows written while the stream is down');
    // Every metrics fetch from now on answers late, so live rows reach the page before the resync does.
    await page.route('**/api/runs:metrics', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    web.server = await startWebServer({ service: web.lab.service, staticDir: RENDERER_DIR, port, token });
    await page.waitForSelector('[data-testid="lab-unreachable"]', { state: 'detached', timeout: 30_000 });
    await page.waitForTimeout(4000);
    await api(web, 'runs:cancel', { id: runId });
    expect(await waitForRuns(web, [runId])).toEqual(['cancelled']);
    const stored = web.lab.store.metrics.series(runId, { names: ['loss'] }).loss!;
    const lastStored = stored.steps[stored.steps.length - 1];
    // Drawn points may be decimated to the chart's width, but then they are spread evenly over the steps: a lost
    // stretch of rows shows as a jump between neighbours far wider than the average spacing.
    const shape = () =>
      page.evaluate(() => {
        const d = (window as unknown as Hooks).__dpoLab.charts.get('chart-loss')!.getOption().series[0].data;
        let widest = 0;
        for (let i = 1; i < d.length; i++) widest = Math.max(widest, d[i][0] - d[i - 1][0]);
        return { n: d.length, last: d.length ? d[d.length - 1][0] : -1, widest };
      });
    const s = await until(
      async () => {
        const x = await shape();
        return x.last === lastStored ? x : null;
      },
      `the chart to reach the last stored step ${lastStored}`,
      20_000,
    );
    expect(s.widest).toBeLessThanOrEqual(Math.max(20, (6 * lastStored) / s.n));
    await page.context().close();
  });
});
