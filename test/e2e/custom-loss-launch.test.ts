/**
 * A saved custom (formula) loss in the launchers, end to end in Chromium: the Losses view's "run" opens the
 * synthetic launcher with it ticked beside DPO, in its own colour; the launch sends loss 'custom' with the formula;
 * both runs train, and the runs list, the compare view and the run page call the custom run by its name, the run page
 * with its formula. The LLM launcher offers it too, and a tiny-model LLM run trains with it.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ROOT, api, openApp, recordCalls, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';
import { writeTinyModel } from '../support/tiny-models';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

const NAME = 'sg-balanced';
const FORMULA = 'lam = sg(logp_l / (logp_w + logp_l));\n-logsigmoid(beta * (lam * (logp_w - ref_w) - (1 - lam) * (logp_l - ref_l)))';
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');

/** The run ids of the compare view the launch opened (#/compare?ids=1,2). */
const idsInUrl = (page: Page) =>
  decodeURIComponent(/[?&]ids=([^&]+)/.exec(page.url())?.[1] ?? '')
    .split(',')
    .map(Number);

/** A chip's colour (its border) as the browser computed it, in rgb(). */
const chipColor = (page: Page, sel: string) => page.$eval(`${sel} .loss-chip`, (el) => getComputedStyle(el).borderTopColor);
/** The custom loss's colour as the Losses view draws its chip (one colour per loss, everywhere). */
let customColor = '';

describe('custom losses in the launchers', () => {
  it('launches a custom-loss synthetic run next to DPO from the UI; list, compare and run page show its name and formula', async () => {
    await api(web, 'losses:saveCustom', { name: NAME, formula: FORMULA });
    const { page, errors } = await openApp(browser, web, '#/losses');
    await page.waitForSelector(`[data-testid="saved-${NAME}"]`);
    customColor = await chipColor(page, `[data-testid="saved-${NAME}"]`);
    await page.click(`[data-testid="saved-${NAME}"] [data-testid="saved-run"]`);
    await page.waitForSelector('[data-testid="launcher"]');
    const box = `[data-testid="loss-custom-${NAME}"]`;
    await until(async () => page.isChecked(`${box} input`), 'the custom loss to be ticked', 5000);
    expect(await page.isChecked('[data-testid="loss-dpo"] input')).toBe(true);
    expect(await page.isChecked('[data-testid="loss-bdpo"] input')).toBe(false);
    expect(await chipColor(page, box)).toBe(customColor);
    expect(customColor).not.toBe(await chipColor(page, '[data-testid="loss-dpo"]'));
    expect(await page.getAttribute(box, 'title')).toBe(FORMULA);
    expect((await page.textContent('[data-testid="launch"]'))?.trim()).toBe('Launch 2 runs');

    await page.fill('#cfg-steps', '40');
    await page.fill('#cfg-refSteps', '5');
    await page.fill('#cfg-evalEvery', '10');
    const starts = recordCalls(page, 'runs:start');
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="compare-view"]');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ kind: 'synthetic', losses: ['dpo', 'custom'], config: { loss: 'custom', customLoss: { name: NAME, formula: FORMULA } } });
    const ids = idsInUrl(page);
    expect(ids).toHaveLength(2);
    expect(await waitForRuns(web, ids)).toEqual(['done', 'done']);
    const [dpoId, customId] = ids.sort((a, b) => a - b);
    expect(web.lab.store.runs.get(dpoId)!.config).not.toHaveProperty('customLoss');
    expect(web.lab.store.runs.get(customId)!.config).toMatchObject({ loss: 'custom', customLoss: { name: NAME, formula: FORMULA } });
    // the two losses trained differently (the formula is not DPO)
    expect(web.lab.store.runs.get(customId)!.final!.expectedUtility).not.toBe(web.lab.store.runs.get(dpoId)!.final!.expectedUtility);

    // compare: the final table's chips name the custom loss, in its colour, beside DPO's
    await page.reload();
    await page.waitForSelector('[data-testid="final-table"]');
    await until(async () => (await page.$$('[data-testid="final-table"] .loss-chip')).length === 2, 'both rows', 20_000);
    const chips = await page.$$eval('[data-testid="final-table"] .loss-chip', (els) => els.map((e) => e.getAttribute('data-loss')));
    expect(chips.sort()).toEqual(['dpo', NAME].sort());
    expect(await page.$eval(`[data-testid="final-table"] .loss-chip[data-loss="${NAME}"]`, (el) => getComputedStyle(el).borderTopColor)).toBe(customColor);
    // run labels and the significance groups name the loss, not its formula object
    const finalText = (await page.textContent('[data-testid="final-table"]')) ?? '';
    expect(finalText).toContain(NAME);
    expect(finalText).not.toContain('customLoss');
    await page.waitForSelector('[data-testid="stats-table"]');
    const groups = await page.$$eval('[data-testid="stats-table"] tbody tr td:first-child', (tds) => tds.map((td) => td.textContent?.trim()));
    expect(groups).toEqual(['loss=dpo', `loss=${NAME}`]);
    await page.screenshot({ path: '/tmp/formula-ui/compare-custom-vs-dpo.png', fullPage: false });

    // runs list: the chip and the loss filter go by the custom name
    await page.goto(`${web.server.url}#/runs`);
    await page.waitForSelector(`[data-testid="run-row-${customId}"]`);
    expect(await page.getAttribute(`[data-testid="run-row-${customId}"] .loss-chip`, 'data-loss')).toBe(NAME);
    await page.selectOption('[data-testid="filter-loss"]', NAME);
    await until(async () => (await page.$(`[data-testid="run-row-${dpoId}"]`)) === null, 'the DPO run to be filtered out', 10_000);
    expect(await page.$(`[data-testid="run-row-${customId}"]`)).not.toBeNull();

    // run page: the name in the top bar, the formula under it
    await page.goto(`${web.server.url}#/runs/${customId}`);
    await page.waitForSelector('[data-testid="run-formula"]');
    expect(await page.getAttribute('[data-testid="run-loss"]', 'data-loss')).toBe(NAME);
    expect(await page.textContent('[data-testid="run-formula"] code')).toBe(FORMULA);
    expect(await page.textContent('[data-testid="run-config"]')).not.toContain('[object Object]');
    await page.screenshot({ path: '/tmp/formula-ui/run-page-custom.png', fullPage: false });

    // clone: the launcher comes back with the custom loss alone
    await page.click('[data-testid="clone-run"]');
    await page.waitForSelector('[data-testid="launcher"]');
    await until(async () => page.isChecked(`${box} input`), 'the clone to tick the custom loss', 5000);
    expect(await page.isChecked('[data-testid="loss-dpo"] input')).toBe(false);
    expect(errors).toEqual([]);
  });

  it('the LLM launcher offers the saved custom loss; a tiny-model run trains with it beside DPO', async () => {
    if (!(await api<{ name: string }[]>(web, 'losses:listCustom')).some((c) => c.name === NAME))
      await api(web, 'losses:saveCustom', { name: NAME, formula: FORMULA });
    const modelDir = path.join(web.dir, 'tiny-gpt2');
    writeTinyModel(modelDir, { arch: 'gpt2', hidden: 16, layers: 2, heads: 2, maxPositions: 256, seed: 3 });
    const { page, errors } = await openApp(browser, web, '#/losses');
    await page.waitForSelector(`[data-testid="saved-${NAME}"]`);
    const color = await chipColor(page, `[data-testid="saved-${NAME}"]`);
    await page.goto(`${web.server.url}#/llm?model=${encodeURIComponent(modelDir)}&data=${encodeURIComponent(HH)}`);
    await page.waitForSelector('[data-testid="llm-launcher"]');
    const box = `[data-testid="llm-loss-custom-${NAME}"]`;
    await page.waitForSelector(box);
    expect(await chipColor(page, box)).toBe(color);
    // a formula may read clip: the field shows once a custom loss is ticked
    expect(await page.$('#cfg-clip')).toBeNull();
    await page.check(`${box} input`);
    await page.waitForSelector('#cfg-clip');
    expect((await page.textContent('[data-testid="llm-launch"]'))?.trim()).toBe('Launch 2 runs');
    await until(async () => (await page.inputValue('[data-testid="llm-model-path"]')) === modelDir, 'the model path', 5000);
    const set = async (key: string, v: number) => page.fill(`#cfg-${key}`, String(v));
    await set('maxLength', 128);
    await set('maxPairs', 8);
    await set('maxEvalPairs', 2);
    await set('steps', 2);
    await set('batchSize', 1);
    await set('evalEvery', 2);
    const starts = recordCalls(page, 'runs:start');
    await page.click('[data-testid="llm-launch"]');
    await page.waitForSelector('[data-testid="compare-view"]', { timeout: 15_000 });
    expect(starts[0]).toMatchObject({ kind: 'llm', losses: ['dpo', 'custom'], config: { loss: 'custom', customLoss: { name: NAME, formula: FORMULA } } });
    const ids = idsInUrl(page);
    const statuses = await waitForRuns(web, ids, 180_000);
    const custom = ids.map((id) => web.lab.store.runs.get(id)!).find((r) => r.config.loss === 'custom')!;
    expect(statuses, custom.error ?? '').toEqual(['done', 'done']);
    expect(custom.config.customLoss).toEqual({ name: NAME, formula: FORMULA });
    await page.goto(`${web.server.url}#/runs/${custom.id}`);
    await page.waitForSelector('[data-testid="run-formula"]');
    expect(await page.getAttribute('[data-testid="run-loss"]', 'data-loss')).toBe(NAME);
    expect(errors).toEqual([]);
  });
});
