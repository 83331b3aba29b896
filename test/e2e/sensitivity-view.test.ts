/**
 * The sensitivity preset in the Sweeps view: its per-setting table (τ, bDPO − DPO, Welch, our ranking) and the
 * sentence written from it, for a sweep whose runs are recorded straight into the lab's store (a real study is
 * 1296 runs; what the view does with them does not depend on how they were trained).
 */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { PAPER_LOSSES } from '@shared/losses';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { sensitivitySentence } from '@shared/sensitivity-sentence';
import type { SensitivityStudy } from '@shared/sensitivity';
import { finishSweep } from '../../src-main/api/sweeps';
import { openApp, screenshot, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('sensitivity study in the Sweeps view', () => {
  it('shows one row per setting and the summary sentence of the stored study', async () => {
    const store = web.lab.store;
    const sweepId = store.sweeps.create('Sensitivity study (3 seeds)', 'sensitivity', { preset: 'sensitivity', seeds: 3 });
    const configs = [300, 1000].flatMap((steps) =>
      [0, 1, 2].flatMap((seed) => PAPER_LOSSES.map((loss) => SyntheticConfigSchema.parse({ steps, beta: 0.1, lr: 1e-3, model: 'mlp', mask: 0, seed, loss }))),
    );
    const ids = store.runs.createMany(configs.map((config) => ({ name: config.loss, kind: 'synthetic' as const, config, seed: config.seed, sweepId })));
    // bdpo well ahead of dpo at 300 steps, level at 1000
    ids.forEach((id, i) => {
      const c = configs[i];
      const v = c.loss === 'bdpo' ? (c.steps === 300 ? 6 : 5) + c.seed / 10 : c.loss === 'dpo' ? 4 + c.seed / 10 + (c.steps === 300 ? 0 : 1.05) : 4.5;
      store.runs.finish(id, 'done', { final: { expectedUtility: 2 * v, expectedUtilityNormalized: v } });
    });
    finishSweep(store, sweepId);
    const study = (store.sweeps.get(sweepId)!.summary as { sensitivity: SensitivityStudy }).sensitivity;

    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    await page.waitForSelector('[data-testid="sensitivity-table"]');
    expect(await page.locator('[data-testid="sensitivity-table"] tbody tr').count()).toBe(2);
    expect((await page.textContent('[data-testid="sensitivity-sentence"]'))!.trim()).toBe(sensitivitySentence(study));
    expect(await page.textContent('[data-testid="sensitivity-sentence"]')).toContain('bDPO beats DPO in 1 of 2 settings');
    const row0 = (await page.textContent('[data-testid="sensitivity-row-0"]'))!;
    expect(row0).toContain('mlp');
    expect(row0).toContain('bdpo');
    await screenshot(page, 'sensitivity-table');
    expect(errors).toEqual([]);
  });
});
