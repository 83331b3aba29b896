/**
 * The Losses view in Chromium: a formula with an unknown name is marked at its character with the message; a valid
 * one gets its balance heatmap beside DPO's and its worked pairs; saved, it is listed, survives a reload (stored in
 * the lab's SQLite file), and can be deleted.
 */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { BUILTIN_FORMULAS } from '@shared/formula';
import { openApp, screenshot, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

/** nbDPO-style reweighting of DPO with the weight held out of the gradient; `foo` makes it fail at character 61. */
const BAD = '-logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l))) + foo';
const GOOD = 'lam = sg(logp_l / (logp_w + logp_l));\n-logsigmoid(beta * (lam * (logp_w - ref_w) - (1 - lam) * (logp_l - ref_l)))';

describe('Losses view', () => {
  it('marks the bad character, profiles a valid formula beside DPO, saves, lists after a reload, deletes', async () => {
    const { page, errors } = await openApp(browser, web, '#/losses');
    await page.waitForSelector('[data-testid="losses-view"]');

    await page.fill('[data-testid="formula-editor"]', BAD);
    await page.waitForSelector('[data-testid="formula-error-mark"]');
    expect(await page.textContent('[data-testid="formula-error-mark"]')).toBe('foo');
    expect(await page.getAttribute('[data-testid="formula-error-mark"]', 'data-index')).toBe(String(BAD.indexOf('foo')));
    const message = await page.textContent('[data-testid="formula-error"]');
    expect(message).toContain('unknown name foo');
    expect(message).toContain(`character ${BAD.indexOf('foo') + 1}`);
    // the caret line keeps the bad name on screen under a long line
    expect(await page.textContent('[data-testid="formula-caret"]')).toMatch(/\+ foo\n\s*\^\^\^$/);
    expect(await page.isDisabled('[data-testid="save-custom"]')).toBe(true);
    expect(await page.$('[data-testid="worked-pairs"]')).toBeNull();
    await page.screenshot({ path: '/tmp/formula-ui/losses-error.png' });

    // a name that is not a variable, a wrong arity: each at its own character
    await page.fill('[data-testid="formula-editor"]', '-logsigmoid(beta, logp_w - logp_l)');
    await page.waitForFunction(() => document.querySelector('[data-testid="formula-error"]')?.textContent?.includes('logsigmoid'));
    expect(await page.textContent('[data-testid="formula-error-mark"]')).toContain('logsigmoid');

    await page.fill('[data-testid="formula-editor"]', GOOD);
    await page.waitForSelector('[data-testid="formula-ok"]');
    await page.waitForSelector('[data-testid="balance-custom"] canvas');
    await page.waitForSelector('[data-testid="balance-dpo"] canvas');
    // the formula is balanced on a share of the grid DPO is not: both shares are printed, and they differ
    const caption = (await page.textContent('[data-testid="balance-caption"]')) ?? '';
    const [mine, dpo] = [...caption.matchAll(/(\d+)% \/|balanced \(within ×1\.12\) on (\d+)%/g)].map((m) => Number(m[1] ?? m[2]));
    expect(mine).toBeGreaterThan(dpo);
    const losses = await page.$$eval('[data-testid="worked-pairs"] [data-testid="worked-loss"]', (tds) => tds.map((td) => Number(td.textContent)));
    expect(losses.length).toBeGreaterThanOrEqual(3);
    // at the reference every DPO-like loss is log 2
    expect(losses[0]).toBeCloseTo(Math.log(2), 4);
    await page.screenshot({ path: '/tmp/formula-ui/losses-valid.png' });

    await page.fill('[data-testid="custom-name"]', 'sg-balanced');
    await page.click('[data-testid="save-custom"]');
    await page.waitForSelector('[data-testid="saved-sg-balanced"]');
    expect(await page.textContent('[data-testid="save-ok"]')).toContain('sg-balanced');
    // the emptied name field does not complain that the just-saved name is taken
    expect(await page.$('[data-testid="name-error"]')).toBeNull();
    expect(web.lab.store.db.prepare('SELECT name, formula FROM custom_losses').all()).toEqual([{ name: 'sg-balanced', formula: GOOD }]);

    // a second loss from a built-in template, then a duplicate name is refused next to the field
    await page.selectOption('[data-testid="template-select"]', 'ipo');
    expect(await page.inputValue('[data-testid="formula-editor"]')).toBe(BUILTIN_FORMULAS.ipo);
    await page.fill('[data-testid="custom-name"]', 'sg-balanced');
    await page.waitForSelector('[data-testid="name-error"]');
    expect(await page.textContent('[data-testid="name-error"]')).toContain('taken');

    await page.reload();
    await page.waitForSelector('[data-testid="saved-sg-balanced"]');
    await screenshot(page, 'losses-view-saved');
    await page.screenshot({ path: '/tmp/formula-ui/losses-saved-after-reload.png' });
    // the actions column fits in its panel (the delete button is not cut off)
    const fits = await page.$eval('[data-testid="saved-sg-balanced"] [data-testid="saved-delete"]', (b) => {
      const panel = b.closest('.panel')!.getBoundingClientRect();
      return b.getBoundingClientRect().right <= panel.right;
    });
    expect(fits).toBe(true);

    await page.click('[data-testid="saved-sg-balanced"] [data-testid="saved-load"]');
    expect(await page.inputValue('[data-testid="formula-editor"]')).toBe(GOOD);

    await page.click('[data-testid="saved-sg-balanced"] [data-testid="saved-delete"]');
    await page.click('[data-testid="confirm-ok"]');
    await page.waitForSelector('[data-testid="saved-empty"]');
    expect(web.lab.store.db.prepare('SELECT COUNT(*) AS n FROM custom_losses').get()).toEqual({ n: 0 });
    expect(errors).toEqual([]);
  });
});
