/**
 * Significance across seeds in the app: the compare view's "different from DPO?" column and the Table 1 grid's
 * ≠DPO mark (Welch's t-test, Holm-corrected), and the stats columns of the compare CSV. The runs are stored with
 * chosen final values (R and R̂ alike, whichever the grid shows), so which groups differ is known in advance: bDPO far
 * from DPO, IPO within its noise.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { openApp, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

const VALUES: Record<string, number[]> = {
  dpo: [0.5, 0.52, 0.51, 0.49],
  bdpo: [0.8, 0.82, 0.79, 0.81],
  ipo: [0.505, 0.515, 0.49, 0.52],
};

function storeRuns(sweepId?: number, extra: Record<string, unknown> = { mask: 0 }): Record<string, number[]> {
  const store = web.lab.store;
  const ids: Record<string, number[]> = {};
  for (const [loss, values] of Object.entries(VALUES))
    ids[loss] = values.map((v, seed) => {
      const id = store.runs.create({ name: `${loss} seed ${seed}`, kind: 'synthetic', config: { loss, ...extra, beta: 0.1, seed }, seed, sweepId });
      store.runs.finish(id, 'done', { final: { expectedUtility: v, expectedUtilityNormalized: v, pBest: 0.3 } });
      return id;
    });
  return ids;
}

describe('significance across seeds', () => {
  it('compare marks bDPO as different from DPO and IPO as not, after Holm; the CSV carries the stats', async () => {
    const ids = storeRuns();
    const all = Object.values(ids).flat();
    const { page, errors } = await openApp(browser, web, `#/compare?ids=${all.join(',')}`);
    await page.waitForSelector('[data-testid="stats-table"]');
    const mark = (key: string) => page.getAttribute(`[data-testid="dpo-mark-${key}"]`, 'data-mark');
    expect(await mark('loss=bdpo')).toBe('differs');
    expect(await mark('loss=ipo')).toBe('same');
    expect(await mark('loss=dpo')).toBe('');
    expect(await page.textContent('[data-testid="dpo-mark-loss=bdpo"]')).toMatch(/yes\s+pHolm = /);
    const rows = await page.$$eval('[data-testid="stats-table"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-group')));
    expect(rows).toEqual(['loss=dpo', 'loss=bdpo', 'loss=ipo']);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-compare-csv"]')]);
    const csv = fs
      .readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const head = csv[0];
    const col = (name: string) => head.indexOf(name);
    for (const c of ['stats.metric', 'stats.group', 'stats.ci95_lo', 'stats.ci95_hi', 'stats.vs_dpo_p_holm']) expect(head).toContain(c);
    const rowOf = (id: number) => csv.find((r) => r[0] === String(id))!;
    expect(rowOf(ids.bdpo[0])[col('stats.metric')]).toBe('expectedUtility');
    expect(rowOf(ids.bdpo[0])[col('stats.group')]).toBe('loss=bdpo');
    expect(Number(rowOf(ids.bdpo[0])[col('stats.vs_dpo_p_holm')])).toBeLessThan(0.05);
    expect(Number(rowOf(ids.ipo[0])[col('stats.vs_dpo_p_holm')])).toBeGreaterThan(0.05);
    expect(rowOf(ids.dpo[0])[col('stats.vs_dpo_p_holm')]).toBe('');
    expect(Number(rowOf(ids.dpo[0])[col('stats.n')])).toBe(4);
    expect(errors).toEqual([]);
  });

  it('the Table 1 grid marks the cell that differs from DPO at its mask rate', async () => {
    const sweepId = web.lab.store.sweeps.create('Table 1 (4 seeds)', 'table1', {});
    storeRuns(sweepId);
    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    await page.waitForSelector('[data-testid="dpo-mark-0-bdpo"]');
    expect(await page.$('[data-testid="dpo-mark-0-ipo"]')).toBeNull();
    expect(await page.$('[data-testid="dpo-mark-0-dpo"]')).toBeNull();
    expect(await page.getAttribute('[data-testid="cell-0-ipo"]', 'title')).toMatch(/vs DPO: Welch p = [\d.]+, Holm-corrected [\d.]+$/);
    expect(errors).toEqual([]);
  });

  it('a sweep over losses marks the row that differs from DPO, and its CSV carries the test', async () => {
    const sweepId = web.lab.store.sweeps.create('losses × lr', null, {});
    storeRuns(sweepId, { lr: 0.01 });
    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    await page.waitForSelector('[data-testid="sweep-cells-table"] [data-testid="dpo-mark-1"]');
    const keys = await page.$$eval('[data-testid="sweep-cells-table"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(keys).toEqual(['{"loss":"dpo"}', '{"loss":"bdpo"}', '{"loss":"ipo"}']);
    expect(await page.$('[data-testid="dpo-mark-2"]')).toBeNull();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-grid-csv"]')]);
    const csv = fs
      .readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const col = csv[0].findIndex((h) => h.endsWith(' vs dpo p holm'));
    expect(col).toBeGreaterThan(0);
    expect(Number(csv[2][col])).toBeLessThan(0.05);
    expect(Number(csv[3][col])).toBeGreaterThan(0.05);
    expect(csv[1][col]).toBe('');
    expect(errors).toEqual([]);
  });
});
