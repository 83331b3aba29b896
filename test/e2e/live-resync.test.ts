/**
 * A live run page across a server restart: the event stream drops, rows keep coming into the store meanwhile, and
 * once the stream is back the page fills the gap from the store, so the chart ends holding every stored row.
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

type Hooks = { __dpoLab: { charts: Map<string, { getOption(): { series: { data: unknown[] }[] } }> } };

describe('live run page across a lost event stream', () => {
  it('resyncs from the store after the stream comes back: no gap in the curve', async () => {
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 500, refSteps: 5, evalEvery: 100, K: 8 },
      name: 'through a restart',
    });
    const runId = runIds[0];
    const { page } = await openApp(browser, web, `#/runs/${runId}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 60_000,
    });
    const { port, token } = web.server;
    const before = web.lab.store.metrics.series(runId, { names: ['loss'] }).loss?.steps.length ?? 0;
    await web.server.close();
    // The run goes on in the lab while no stream is open.
    await until(
      () => (web.lab.store.metrics.series(runId, { names: ['loss'] }).loss?.steps.length ?? 0) > before + 50 || web.lab.store.runs.statusOf(runId) === 'done',
      'rows written while offline',
    );
    web.server = await startWebServer({ service: web.lab.service, staticDir: RENDERER_DIR, port, token });
    expect(await waitForRuns(web, [runId])).toEqual(['done']);
    const stored = web.lab.store.metrics.series(runId, { names: ['loss'] }).loss!.steps.length;
    const drawn = () => page.evaluate(() => (window as unknown as Hooks).__dpoLab.charts.get('chart-loss')!.getOption().series[0].data.length);
    await until(async () => (await drawn()) === stored || null, `the chart to hold all ${stored} stored loss rows`, 20_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; drawn ${await drawn()}`, { cause: err });
    });
    await page.context().close();
  });
});
