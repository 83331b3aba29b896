/**
 * The safety-tiny benchmark from the Results view in Chromium against a real web-mode lab (real workers, a real
 * SQLite file), on stage sizes that run every stage in seconds: the form's error next to the field it names, a
 * start that narrows the table to the session, the stage shown live, the grid's rows (SFT and each loss, learned
 * and oracle columns) as they land, CSV export of just that session, and a cancel from the sessions table.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parse } from 'csv-parse/sync';
import { api, openApp, screenshot, until, type WebLab, withWebLabAndChromium } from './harness';
import type { BenchRecord } from '@shared/bench';
import type { EvalRecord } from '@shared/eval';
import { TINY_BENCH_BUDGET as TINY } from '../support/bench-budget';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

describe('safety-tiny benchmark in the Results view', () => {
  it('starts a session from the form, shows its stage live, then its grid with the oracle columns; exports just that session', async () => {
    const { page, errors } = await openApp(browser, web, '#/results');
    await page.waitForSelector('[data-testid="bench-form"]');
    // one loss besides the SFT row: untick every paper loss but dpo
    for (const l of ['nbdpo-asymm', 'nbdpo-symm', 'nbdpo2-asymm', 'nbdpo2-symm', 'bdpo']) await page.uncheck(`[data-testid="bench-loss-${l}"]`);
    await page.click('[data-testid="bench-form"] summary');

    // a stage size the lab refuses: its message next to the field, nothing started
    await page.fill('[data-testid="bench-budget"]', JSON.stringify({ ...TINY, sftSteps: 0 }));
    await page.click('[data-testid="bench-start"]');
    await page.waitForSelector('[data-testid="bench-error-budget-sftSteps"]');
    expect(await page.textContent('[data-testid="bench-error-budget-sftSteps"]')).toMatch(/budget\.sftSteps: .*1/);
    expect(await api<BenchRecord[]>(web, 'benches:list')).toEqual([]);

    await page.fill('[data-testid="bench-budget"]', JSON.stringify(TINY));
    await page.click('[data-testid="bench-start"]');
    const b0 = await until(async () => (await api<BenchRecord[]>(web, 'benches:list'))[0], 'the session to be created');
    expect(b0.settings).toMatchObject({ seeds: 1, losses: ['dpo'], quick: false, budget: TINY });
    const id = b0.id;
    // the table is narrowed to the new session at once
    expect(await page.textContent('[data-testid="results-filter"]')).toContain(`session #${id}`);
    // the stage, live from the event stream
    await page.waitForSelector(`[data-testid="bench-stage-${id}"]:has-text("seed 1/1 ·")`, { timeout: 60_000 });

    await page.waitForSelector(`[data-testid="bench-row-${id}"][data-status="done"]`, { timeout: 180_000 });
    const b = await api<BenchRecord>(web, 'benches:get', { id });
    expect(b.status).toBe('done');
    expect(await page.textContent(`[data-testid="bench-stage-${id}"]`)).toMatch(/^\s*2 rows in \d+ s\s*$/);

    const evals = await api<EvalRecord[]>(web, 'evals:list', { benchId: id });
    expect(evals.map((e) => e.loss).sort()).toEqual(['dpo', 'sft']);
    await until(async () => (await page.$$('[data-testid^="result-row-"]')).length === 2, 'both rows in the table');
    for (const e of evals) {
      const row = b.result!.rows.find((r) => r.loss === e.loss)!;
      expect(await page.getAttribute(`[data-testid="cell-${e.id}-loss"] .loss-chip`, 'data-loss')).toBe(e.loss);
      expect((await page.textContent(`[data-testid="cell-${e.id}-help"]`))!.trim()).toMatch(new RegExp(`^${row.help.toFixed(3).replace('-', '−')} ± `));
      expect((await page.textContent(`[data-testid="cell-${e.id}-sr"]`))!.trim()).toMatch(new RegExp(`^${pct(row.sr).replace('.', '\\.')}`));
      expect((await page.textContent(`[data-testid="cell-${e.id}-oracleHelp"]`))!.trim()).toMatch(
        new RegExp(`^${row.oracleHelp.toFixed(3).replace('-', '−').replace('.', '\\.')}`),
      );
      expect((await page.textContent(`[data-testid="cell-${e.id}-oracleSr"]`))!.trim()).toMatch(new RegExp(`^${pct(row.oracleSr).replace('.', '\\.')}`));
    }
    for (const label of ['Oracle Help', 'Oracle Harm', 'Oracle S.R.']) expect(await page.textContent('[data-testid="results-table"] thead')).toContain(label);
    await screenshot(page, 'results-bench-session');

    // export while narrowed: just the session's rows, with its id and the oracle's numbers
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-results-csv"]')]);
    const csv = parse(fs.readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => r.loss).sort()).toEqual(['dpo', 'sft']);
    for (const r of csv) {
      expect(r.bench_id).toBe(String(id));
      expect(Number(r.oracle_sr)).toBeCloseTo(b.result!.rows.find((x) => x.loss === r.loss)!.oracleSr, 10);
    }
    // the one refused start (HTTP 400, shown next to the field) is the only error the page saw
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  }, 300_000);

  it('cancels a running session from its row; it ends cancelled with no rows', async () => {
    const { page, errors } = await openApp(browser, web, '#/results');
    await page.waitForSelector('[data-testid="bench-form"]');
    for (const l of ['nbdpo-asymm', 'nbdpo-symm', 'nbdpo2-asymm', 'nbdpo2-symm', 'bdpo']) await page.uncheck(`[data-testid="bench-loss-${l}"]`);
    await page.click('[data-testid="bench-form"] summary');
    await page.fill('[data-testid="bench-budget"]', JSON.stringify({ ...TINY, sftSteps: 1_000_000 }));
    const before = (await api<BenchRecord[]>(web, 'benches:list')).length;
    await page.click('[data-testid="bench-start"]');
    const id = await until(async () => {
      const list = await api<BenchRecord[]>(web, 'benches:list');
      return list.length > before ? list[0].id : null;
    }, 'the session to be created');
    await page.waitForSelector(`[data-testid="bench-stage-${id}"]:has-text("SFT")`, { timeout: 60_000 });
    await page.click(`[data-testid="bench-cancel-${id}"]`);
    await page.waitForSelector(`[data-testid="bench-row-${id}"][data-status="cancelled"]`, { timeout: 30_000 });
    expect(await page.textContent(`[data-testid="bench-stage-${id}"]`)).toContain('stopped at seed 1/1 · SFT');
    expect(await page.$('[data-testid="results-empty-bench"]')).not.toBeNull();
    expect(await api<EvalRecord[]>(web, 'evals:list', { benchId: id })).toEqual([]);
    expect(errors).toEqual([]);
  }, 120_000);
});
