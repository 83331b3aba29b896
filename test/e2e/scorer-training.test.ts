/**
 * Scorer training from the Results view in Chromium against a real web-mode lab: the form trains a reward model in
 * a worker and the table shows its status and held-out accuracy; a bad request (an occupied output folder) is said
 * next to its field. And an LLM run's page lists that run's evaluations with Help/Harm/S.R./win rate ± SE, linking
 * to the Results view.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ROOT, api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';
import { writeTinyModel } from '../support/tiny-models';
import { writeTinyScorer } from '../support/tiny-scorers';
import type { EvalRecord, ScorerRecord } from '@shared/contract';

const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});
const f = (name: string) => path.join(web.dir, name);

describe('scorer training in the app', () => {
  it('the form trains a reward model; the table shows it done with its held-out accuracy; an occupied folder is refused', async () => {
    writeTinyModel(f('base'), { arch: 'gpt2', seed: 3 });
    const pairs = Array.from({ length: 20 }, (_, i) => ({ prompt: `Q${i}:`, chosen: ' good', rejected: ' bad' }));
    fs.writeFileSync(f('pairs.jsonl'), pairs.map((p) => JSON.stringify(p)).join('\n'));
    fs.mkdirSync(f('busy'));
    fs.writeFileSync(path.join(f('busy'), 'keep.txt'), 'x');

    const { page, errors } = await openApp(browser, web, '#/results');
    await page.waitForSelector('[data-testid="scorer-form"]');
    await page.fill('[data-testid="scorer-model"]', f('base'));
    await page.fill('[data-testid="scorer-data"]', f('pairs.jsonl'));
    await page.fill('[data-testid="scorer-out"]', f('busy'));
    await page.fill('[data-testid="scorer-steps"]', '3');
    await page.click('[data-testid="scorer-start"]');
    const err = await page.waitForSelector('[data-testid="scorer-error-out"]');
    expect(await err.textContent()).toContain(`${f('busy')} is not empty`);

    await page.fill('[data-testid="scorer-out"]', f('rm'));
    await page.click('[data-testid="scorer-start"]');
    const row = await page.waitForSelector('[data-testid^="scorer-row-"][data-status="done"]', { timeout: 120_000 });
    const id = Number((await row.getAttribute('data-testid'))!.replace('scorer-row-', ''));
    const rec = await api<ScorerRecord>(web, 'scorers:get', { id });
    expect(rec).toMatchObject({ kind: 'reward', status: 'done', out: f('rm'), settings: { steps: 3 } });
    expect(await page.textContent(`[data-testid="scorer-accuracy-${id}"]`)).toBe(`${(100 * rec.result!.accuracy!).toFixed(1)}%`);
    expect(fs.existsSync(path.join(f('rm'), 'config.json'))).toBe(true);
    // the refused request's 400 is the browser's own console line; nothing else may be
    expect(errors.filter((e) => !e.includes('status of 400 (Bad Request)'))).toEqual([]);
  }, 180_000);

  it("an LLM run's page lists its evaluations with ± SE and links each to the Results view", async () => {
    writeTinyModel(f('policy'), { arch: 'gpt2', seed: 5 });
    writeTinyScorer(f('reward'), { arch: 'gpt2', seed: 4 });
    writeTinyScorer(f('cost'), { arch: 'gpt2', seed: 6 });
    fs.writeFileSync(f('prompts.jsonl'), ['Hi', 'Tell me a joke', 'What is 2+2?'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
    const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
      kind: 'llm',
      config: { model: f('policy'), data: HH, maxLength: 64, maxPairs: 8, steps: 2, lr: 0.05, loss: 'dpo' },
    });
    expect(await waitForRuns(web, runIds, 120_000)).toEqual(['done']);
    const { page, errors } = await openApp(browser, web, `#/runs/${runIds[0]}`);
    await page.waitForSelector('[data-testid="run-evals-empty"]');

    const { evalId } = await api<{ evalId: number }>(web, 'evals:start', {
      run: runIds[0],
      prompts: f('prompts.jsonl'),
      reward: f('reward'),
      cost: f('cost'),
      settings: { maxNewTokens: 4 },
    });
    const e = await until(
      async () => {
        const r = await api<EvalRecord>(web, 'evals:get', { id: evalId });
        return r.status === 'queued' || r.status === 'running' ? null : r;
      },
      `evaluation ${evalId}`,
      120_000,
      300,
    );
    expect(e.status).toBe('done');
    // the page hears the evaluation end and shows its row without a reload
    await page.waitForSelector(`[data-testid="run-eval-${evalId}"] [data-status="done"]`, { timeout: 30_000 });
    const help = e.summary!.help!;
    expect((await page.textContent(`[data-testid="run-eval-${evalId}-help"]`))!.trim()).toBe(
      `${help.mean.toFixed(3)} ± ${help.se!.toFixed(3)}`.replace(/-/g, '−'),
    );
    expect(await page.textContent(`[data-testid="run-eval-${evalId}-sr"]`)).toContain('%');
    await page.click(`[data-testid="run-eval-${evalId}"] a`);
    await page.waitForSelector('[data-testid="eval-detail"]');
    expect(page.url()).toContain(`#/results/${evalId}`);
    expect(errors).toEqual([]);
  }, 300_000);
});
