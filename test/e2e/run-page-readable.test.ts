/**
 * The run page read as a newcomer would, in a 1024×700 window: the step axis follows the data (minute one of a
 * 20,000-step run is readable), the balance charts say what they show (ρ defined, both diagnostics of losses.md),
 * chosen and rejected gradient norms in two hues, the heatmap beside the curves; a queued run says what it waits
 * for; a cancelled run shows its last evaluated metrics, marked as not final.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';
import { overlappingTexts } from './chart-text';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

const VIEWPORT = { width: 1024, height: 700 };

interface ChartHook {
  getOption(): { title: { text: string }[]; series: { id: string; color: string; data: [number, number][] }[] };
  getModel(): { getComponent(t: string, i: number): { axis: { scale: { getExtent(): [number, number] } } } };
}
type Hooks = { __dpoLab: { charts: Map<string, ChartHook> } };

/** The chart's x-axis extent and the last step it draws. */
function xExtent(page: Page, id: string): Promise<{ max: number; lastDrawn: number }> {
  return page.evaluate((cid) => {
    const c = (window as unknown as Hooks).__dpoLab.charts.get(cid)!;
    const data = c.getOption().series[0].data;
    return { max: c.getModel().getComponent('xAxis', 0).axis.scale.getExtent()[1], lastDrawn: data.length ? data[data.length - 1][0] : 0 };
  }, id);
}

function hue(color: string): number {
  const hsl = /^hsl\((\d+)/.exec(color);
  if (hsl) return Number(hsl[1]);
  const n = parseInt(color.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((x) => x / 255);
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (!d) return 0;
  const h = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return h * 60;
}

describe('run page, readable', () => {
  it('a queued run says what it waits for; a live run at 1024×700 follows the data, explains its balance charts, keeps the heatmap beside', async () => {
    const { runIds: longIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 20_000, refSteps: 5, evalEvery: 50, K: 8 },
      name: 'long one',
    });
    const { runIds: waitingIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'synthetic',
      config: { steps: 20, refSteps: 5, evalEvery: 10, K: 8 },
      name: 'waiting one',
    });
    const [longId, waitingId] = [longIds[0], waitingIds[0]];
    await until(() => web.lab.store.runs.statusOf(longId) === 'running', 'the long run to start', 60_000);

    // The queued run's page names what it waits for.
    const { page, errors } = await openApp(browser, web, `#/runs/${waitingId}`, VIEWPORT);
    await page.waitForSelector('[data-testid="queue-note"]');
    const note = (await page.textContent('[data-testid="queue-note"]'))!;
    expect(note).toContain('waiting for a free worker');
    expect(note).toContain(`#${longId} long one`);
    expect(note).toContain('It is next');

    await page.evaluate((id) => (location.hash = `#/runs/${id}`), longId);
    await page.waitForSelector(`[data-testid="run-view"][data-run-id="${longId}"]`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 60_000,
    });
    // The step axis ends near the last step drawn, not at the planned 20,000.
    const x = await xExtent(page, 'chart-loss');
    expect(x.max).toBeLessThan(20_000);
    expect(x.max).toBeLessThanOrEqual(x.lastDrawn * 1.25 + 100);

    // The balance chart: a title in words, ρ defined under it (the full definition on hover).
    const balanceTitle = await page.evaluate(() => (window as unknown as Hooks).__dpoLab.charts.get('chart-balance')!.getOption().title[0].text);
    expect(balanceTitle).toMatch(/balance/i);
    expect(balanceTitle).not.toBe('balance/log10_prob_ratio');
    expect(await page.textContent('[data-testid="help-balance"]')).toMatch(/ρ = .*balanced/);
    expect(await page.getAttribute('[data-testid="help-balance"]', 'title')).toContain('∂L/∂πθ(y_w)');
    // Both diagnostics of losses.md have a chart.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-grad-ratio"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 30_000,
    });
    expect(await page.textContent('[data-testid="help-grad-ratio"]')).toContain('1 for DPO');
    // Parameter-gradient norms: chosen and rejected in hues far apart.
    const colors = await page.evaluate(() => {
      const s = (window as unknown as Hooks).__dpoLab.charts.get('chart-grad')!.getOption().series;
      const of = (id: string) => s.find((x) => x.id === id)!.color;
      return [of('balance/param_grad_norm_chosen'), of('balance/param_grad_norm_rejected')];
    });
    const dh = Math.abs(hue(colors[0]) - hue(colors[1]));
    expect(Math.min(dh, 360 - dh)).toBeGreaterThan(60);

    // 1024×700: the heatmap sits beside the curves and is in view without scrolling.
    const box = await page.evaluate(() => {
      const r = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
      const heat = r('[data-testid="heatmap"]');
      const firstChart = r('[data-testid="multiples"] .cell');
      return { heat: { left: heat.left, top: heat.top, bottom: heat.bottom, right: heat.right }, chartRight: firstChart.right, chartTop: firstChart.top };
    });
    expect(box.heat.left).toBeGreaterThanOrEqual(box.chartRight);
    expect(box.heat.top).toBeGreaterThanOrEqual(0);
    expect(box.heat.bottom).toBeLessThanOrEqual(VIEWPORT.height);
    expect(box.heat.right).toBeLessThanOrEqual(VIEWPORT.width);
    expect(box.chartTop).toBeLessThan(VIEWPORT.height / 2);

    // No chart's title runs into its legend (or any other text) in the narrower cells.
    const chartIds = await page.$$eval('[data-testid="multiples"] [data-testid^="chart-"]', (els) => els.map((e) => e.getAttribute('data-testid')!));
    expect(chartIds.length).toBeGreaterThanOrEqual(10);
    const texts = await overlappingTexts(page, chartIds);
    expect(texts.seen).toContain('rewards/margins · accuracies');
    expect(texts.found).toEqual([]);

    // Cancelled: the last evaluated metrics, marked as not final.
    await until(() => (web.lab.store.metrics.series(longId, { names: ['expectedUtility'] }).expectedUtility?.steps.length ?? 0) > 2, 'a few evaluations');
    await api(web, 'runs:cancel', { id: longId });
    expect(await waitForRuns(web, [longId])).toEqual(['cancelled']);
    await page.waitForSelector('[data-testid="last-eval-metrics"]', { timeout: 15_000 });
    expect(await page.textContent('[data-testid="last-eval-note"]')).toMatch(/Not final: the run was cancelled/);
    const stored = web.lab.store.metrics.series(longId, { names: ['expectedUtility'] }).expectedUtility;
    const lastStep = stored.steps[stored.steps.length - 1];
    expect(Number(await page.getAttribute('[data-testid="last-eval-metrics"]', 'data-step'))).toBe(lastStep);
    expect(await page.textContent('[data-testid="last-eval-metrics"]')).toContain('expectedUtility');
    expect(await page.$('[data-testid="final-metrics"]')).toBeNull();
    await waitForRuns(web, [waitingId]);
    expect(errors).toEqual([]);
  });
});
