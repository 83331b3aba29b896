/** The launcher: plain validation messages next to each field, a K² warning, tag length, Table 1 seeds; clone mode. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_DATASET_FILE_BYTES, SyntheticConfigSchema } from '@shared/synthetic-config';
import { finishedRun, openApp, recordCalls, until, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('launcher', () => {
  it('launcher: plain validation messages, a K² warning, tag length next to the tags field, Table 1 seeds', async () => {
    const { page, errors } = await openApp(browser, web, '#/experiments');
    await page.waitForSelector('[data-testid="launcher"]');
    await page.fill('#cfg-K', '2.5');
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="error-K"]');
    expect(await page.textContent('[data-testid="error-K"]')).toBe('K must be a whole number');
    await page.fill('#cfg-K', '600');
    await page.waitForFunction(() => document.querySelector('[data-testid="error-K"]')?.textContent === 'K must be at most 512');
    await page.fill('#cfg-K', '200');
    await page.waitForSelector('[data-testid="error-K"]', { state: 'detached' });
    expect(await page.textContent('[data-testid="warning-K"]')).toContain('K²');
    await page.fill('#cfg-K', '20');
    await page.waitForSelector('[data-testid="warning-K"]', { state: 'detached' });

    await page.fill('[data-testid="field-tags"]', `ok, ${'x'.repeat(60)}`);
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="error-tags"]');
    expect(await page.textContent('[data-testid="error-tags"]')).toContain('at most 50 characters');
    expect(page.url()).toMatch(/#\/experiments/);

    await page.fill('[data-testid="table1-seeds"]', '25');
    await page.waitForSelector('[data-testid="error-table1-seeds"]');
    expect(await page.isDisabled('[data-testid="preset-table1"]')).toBe(true);
    expect(await page.textContent('[data-testid="preset-table1"]')).not.toMatch(/Launch \d+ runs/);
    await page.fill('[data-testid="table1-seeds"]', '2');
    await page.waitForSelector('[data-testid="error-table1-seeds"]', { state: 'detached' });
    expect((await page.textContent('[data-testid="preset-table1"]'))?.trim()).toBe('Launch 36 runs');
    expect(errors).toEqual([]);
  });

  it('Defaults after a clone leaves clone mode', async () => {
    const id = await finishedRun(web, 'to clone', { steps: 40, refSteps: 10, evalEvery: 10 });
    const { page, errors } = await openApp(browser, web, `#/experiments?from=${id}`);
    await until(async () => (await page.inputValue('#cfg-steps')) === '40', 'the clone to fill the form', 10_000);
    await page.click('[data-testid="defaults"]');
    await page.waitForFunction(() => !location.hash.includes('from='), null, { timeout: 5000 });
    expect(await page.inputValue('#cfg-steps')).toBe(String(SyntheticConfigSchema.parse({}).steps));
    expect(errors).toEqual([]);
  });

  it('a dataset file that is not valid JSON blocks the launch (the run never trains on other data than shown), until removed', async () => {
    const { page, errors } = await openApp(browser, web, '#/experiments');
    await page.waitForSelector('[data-testid="launcher"]');
    const starts = recordCalls(page, 'runs:start');
    const before = web.lab.store.runs.list({}).length;
    await page.setInputFiles('#dataset', { name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"K": 4, "pairs": [') });
    await page.waitForSelector('[data-testid="error-dataset"]');
    expect(await page.textContent('[data-testid="error-dataset"]')).toContain('broken.json is not valid JSON');
    // An edit elsewhere does not make the complaint (or the file) go away.
    await page.fill('#cfg-steps', '20');
    await page.fill('#cfg-refSteps', '5');
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="launch-error"]');
    expect(await page.textContent('[data-testid="error-dataset"]')).toContain('broken.json');
    expect(await page.inputValue('#dataset')).toContain('broken.json');
    expect(starts).toEqual([]);
    expect(web.lab.store.runs.list({}).length).toBe(before);
    expect(page.url()).toMatch(/#\/experiments/);

    // Removing the file is the way out: nothing is selected, and the run draws its own dataset.
    await page.click('[data-testid="remove-dataset"]');
    await page.waitForSelector('[data-testid="error-dataset"]', { state: 'detached' });
    expect(await page.inputValue('#dataset')).toBe('');
    await page.click('[data-testid="launch"]');
    await page.waitForSelector('[data-testid="run-view"]');
    expect(starts.length).toBe(1);
    expect(starts[0]).not.toHaveProperty('dataset');
    expect(errors).toEqual([]);
  });

  it('a dataset file over the size limit is refused before it is read, naming the file and the limit', async () => {
    const { page, errors } = await openApp(browser, web, '#/experiments');
    await page.waitForSelector('[data-testid="launcher"]');
    const starts = recordCalls(page, 'runs:start');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-big-'));
    try {
      const big = path.join(dir, 'huge.json');
      const fd = fs.openSync(big, 'w');
      fs.ftruncateSync(fd, MAX_DATASET_FILE_BYTES + 1); // sparse: no disk used
      fs.closeSync(fd);
      await page.setInputFiles('#dataset', big);
      await page.waitForSelector('[data-testid="error-dataset"]');
      expect(await page.textContent('[data-testid="error-dataset"]')).toContain('huge.json is 32 MiB, larger than the 32 MiB limit for a dataset file');
      await page.click('[data-testid="launch"]');
      await page.waitForSelector('[data-testid="launch-error"]');
      expect(starts).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(errors).toEqual([]);
  });
});
