/**
 * Issue 12 in Chromium: an LLM run's page exports it as a TRL + Accelerate job (the dialog lists the files and the
 * folder holds them), and a job's trainer_state.json imported over the API becomes a run of kind 'trl' whose curves
 * the compare view draws next to the LLM run's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LlmConfigSchema } from '@shared/llm-config';
import { api, openApp, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

describe('TRL job export and import', () => {
  it("an LLM run's page writes the TRL job; its imported logs open in the compare view", async () => {
    const store = web.lab.store;
    const config = LlmConfigSchema.parse({ model: path.join(web.dir, 'model'), data: path.join(web.dir, 'data.jsonl'), loss: 'bdpo', beta: 0.2 });
    const llmId = store.runs.create({ name: 'llm for trl', kind: 'llm', config });
    store.runs.markRunning(llmId, { backend: 'test', versions: {} });
    store.metrics.append(llmId, { steps: [1, 2], nameIdx: [0, 0], names: ['loss'], values: [0.69, 0.6] });
    store.runs.finish(llmId, 'done', { final: { loss: 0.6 } });

    const { page, errors } = await openApp(browser, web, `#/runs/${llmId}`);
    await page.click('[data-testid="export-trl"]');
    const out = path.join(web.dir, 'trl-job');
    await page.fill('[data-testid="export-out"]', out);
    await page.click('[data-testid="export-go"]');
    await page.waitForSelector('[data-testid="export-trl-result"], [data-testid="export-error"]');
    expect(await page.$('[data-testid="export-error"]')).toBeNull();
    const listed = (await page.textContent('[data-testid="export-trl-result"]')) ?? '';
    for (const f of ['train.py', 'dpo_lab_losses.py', 'accelerate/deepspeed_zero3.yaml', 'requirements.txt']) {
      expect(listed).toContain(f);
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    await page.click('[data-testid="export-close"]');

    fs.mkdirSync(path.join(out, 'output'));
    const log_history = [1, 2, 3].map((step) => ({ loss: 0.7 - step / 10, 'rewards/margins': step / 10, step }));
    fs.writeFileSync(path.join(out, 'output', 'trainer_state.json'), JSON.stringify({ global_step: 3, max_steps: 3, log_history }));
    const { runId } = await api<{ runId: number }>(web, 'runs:importTrl', { dir: out });
    const run = await api<{ kind: string; loss: string }>(web, 'runs:get', { id: runId });
    expect(run).toMatchObject({ kind: 'trl', loss: 'bdpo' });

    await page.goto(`${web.server.url}#/runs/${runId}`);
    await page.waitForSelector(`[data-testid="run-view"][data-run-id="${runId}"]`);
    // the LLM panels (same metric names), not the synthetic lab's heatmap; no launcher to clone into
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) === 3, null, {
      timeout: 20_000,
    });
    expect(await page.$('[data-testid="chart-balance"]')).not.toBeNull();
    expect(await page.$('[data-testid="heatmap"]')).toBeNull();
    expect(await page.$('[data-testid="clone-run"]')).toBeNull();
    // the runs list filters by the new kind
    await page.goto(`${web.server.url}#/runs`);
    await page.waitForSelector(`[data-testid="run-row-${llmId}"]`);
    await page.selectOption('select[aria-label="kind"]', 'trl');
    await page.waitForSelector(`[data-testid="run-row-${llmId}"]`, { state: 'detached' });
    expect(await page.$(`[data-testid="run-row-${runId}"]`)).not.toBeNull();

    await page.goto(`${web.server.url}#/compare?ids=${llmId},${runId}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="compare-chart-loss"]')?.getAttribute('data-points')) >= 5, null, {
      timeout: 20_000,
    });
    expect(errors).toEqual([]);
  });
});
