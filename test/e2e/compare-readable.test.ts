/**
 * The compare view read as a newcomer would: runs labelled by their names, a cancelled run's last evaluated
 * values marked as such, no "best" balance value, both balance diagnostics charted without "show all", config
 * columns in the CSV, and a seed group drawn as its mean with a ±1 std band.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

type Hooks = { __dpoLab: { charts: Map<string, { getOption(): { series: { id: string; data: unknown[] }[] } }> } };

const short = { steps: 40, refSteps: 5, evalEvery: 10, K: 8 };

async function start(name: string, config: Record<string, unknown>): Promise<number> {
  const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', { kind: 'synthetic', config, name });
  return runIds[0];
}

describe('compare, readable', () => {
  it('labels by name, marks a cancelled run, crowns no balance value, charts both diagnostics, CSV config columns, seed band', async () => {
    const first = await start('first try', { ...short, seed: 1 });
    const second = await start('second try', { ...short, seed: 2 });
    const stopped = await start('stopped early', { ...short, steps: 50_000, evalEvery: 20 });
    await waitForRuns(web, [first, second]);
    await until(() => (web.lab.store.metrics.series(stopped, { names: ['expectedUtility'] }).expectedUtility?.steps.length ?? 0) > 2, 'evaluations', 60_000);
    await api(web, 'runs:cancel', { id: stopped });
    expect(await waitForRuns(web, [stopped])).toEqual(['cancelled']);
    const ids = [first, second, stopped];

    const { page, errors } = await openApp(browser, web, `#/compare?ids=${ids.join(',')}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="final-table"] tbody tr').length === 3);
    const legend = await page.$$eval('[data-testid="compare-view"] .legend a', (as) => as.map((a) => a.textContent!.trim()));
    expect(legend.some((l) => l.startsWith('first try'))).toBe(true);
    expect(legend.some((l) => l.startsWith('second try'))).toBe(true);
    expect(legend.some((l) => l.startsWith('stopped early'))).toBe(true);

    // The cancelled run's row: its last evaluated values, said to be so.
    const stoppedRow = `[data-testid="final-table"] tr[data-row="${stopped}"]`;
    expect(await page.textContent(`${stoppedRow} [data-testid="stopped-mark"]`)).toContain('cancelled: last evaluated values, not final');
    const R = web.lab.store.metrics.series(stopped, { names: ['expectedUtility'] }).expectedUtility;
    const shown = Number((await page.textContent(`${stoppedRow} td[data-metric="expectedUtility"]`))!.replace('−', '-'));
    expect(shown).toBeCloseTo(R.values[R.values.length - 1]!, 2);

    // No run is "best" at a balance value; both diagnostics are charted without "show all".
    expect(await page.$$('[data-testid="final-table"] td.best[data-metric^="balance/"]')).toEqual([]);
    await page.waitForSelector('[data-testid="compare-chart-balance/log10_prob_ratio"]');
    await page.waitForSelector('[data-testid="compare-chart-balance/logp_grad_ratio"]');

    // CSV: the config beside the metrics.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-compare-csv"]')]);
    const [head, ...rows] = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/)
      .map((l) => l.split(','));
    expect(head.slice(0, 6)).toEqual(['run_id', 'name', 'loss_fn', 'seed', 'status', 'expectedUtility']);
    for (const k of ['config.seed', 'config.steps', 'config.lr', 'config.K', 'config.loss']) expect(head).toContain(k);
    const rowOf = (id: number) => rows.find((r) => r[0] === String(id))!;
    expect(rowOf(second)[head.indexOf('config.seed')]).toBe('2');
    expect(rowOf(stopped)[head.indexOf('config.steps')]).toBe('50000');

    // The seed group (first + second) as a mean curve with a band; the stopped run keeps its own curve.
    await page.check('[data-testid="seed-bands"]');
    const series = await until(
      async () => {
        const s = await page.evaluate(
          () =>
            (window as unknown as Hooks).__dpoLab.charts
              .get('compare-chart-expectedUtility')
              ?.getOption()
              .series.map((x) => ({ id: String(x.id), data: x.data as number[][] })) ?? [],
        );
        return s.some((x) => x.id.startsWith('mean-') && x.data.length) ? s : null;
      },
      'the seed band',
      15_000,
    );
    const ids2 = series.map((s) => s.id);
    expect(ids2.filter((id) => id.startsWith('band-')).length).toBe(1);
    expect(ids2).not.toContain(`raw-${first}`);
    expect(ids2).not.toContain(`raw-${second}`);
    expect(ids2).toContain(`raw-${stopped}`);
    const mean = series.find((s) => s.id.startsWith('mean-'))!.data;
    const a = web.lab.store.metrics.series(first, { names: ['expectedUtility'] }).expectedUtility;
    const b = web.lab.store.metrics.series(second, { names: ['expectedUtility'] }).expectedUtility;
    const last = a.values.length - 1;
    expect(mean[mean.length - 1][0]).toBe(a.steps[last]);
    expect(mean[mean.length - 1][1]).toBeCloseTo((a.values[last]! + b.values[last]!) / 2, 6);
    expect(errors).toEqual([]);
  });
});
