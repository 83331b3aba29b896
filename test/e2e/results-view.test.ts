/**
 * The Results view in Chromium against a real web-mode lab, on tiny random models and scorers: evaluations of a
 * trained LLM run (its loss's colour) and of a model folder, Help/Harm/S.R./win rate with ± SE, sorting, best per
 * column, per-response detail, CSV export, the form's errors next to the field they name, and a start from the form.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parse } from 'csv-parse/sync';
import { ROOT, api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';
import { writeTinyModel } from '../support/tiny-models';
import { writeTinyScorer } from '../support/tiny-scorers';
import { EVAL_TABLE_HEADER, type EvalRecord } from '@shared/eval';

const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

const f = (name: string) => path.join(web.dir, name);

async function finishedEval(input: Record<string, unknown>): Promise<EvalRecord> {
  const { evalId } = await api<{ evalId: number }>(web, 'evals:start', input);
  const e = await until(
    async () => {
      const r = await api<EvalRecord>(web, 'evals:get', { id: evalId });
      return r.status === 'queued' || r.status === 'running' ? null : r;
    },
    `evaluation ${evalId}`,
    120_000,
    300,
  );
  if (e.status !== 'done') throw new Error(`evaluation ${evalId} ended ${e.status}: ${e.error}`);
  return e;
}

let runEval: EvalRecord;
let modelEval: EvalRecord;

beforeAll(async () => {
  writeTinyModel(f('policy'), { arch: 'gpt2', seed: 3 });
  writeTinyModel(f('other'), { arch: 'gpt2', seed: 9 });
  writeTinyScorer(f('reward'), { arch: 'gpt2', seed: 4 });
  writeTinyScorer(f('cost'), { arch: 'gpt2', seed: 5 });
  fs.writeFileSync(
    f('prompts.jsonl'),
    ['How do I bake bread?', 'Tell me a joke', 'What is 2+2?', 'Name a colour'].map((p) => JSON.stringify({ prompt: p })).join('\n'),
  );
  const { runIds } = await api<{ runIds: number[] }>(web, 'runs:start', {
    kind: 'llm',
    config: { model: f('policy'), data: HH, maxLength: 64, maxPairs: 8, steps: 2, lr: 0.05, loss: 'bdpo' },
  });
  expect(await waitForRuns(web, runIds, 120_000)).toEqual(['done']);
  const common = { prompts: f('prompts.jsonl'), reward: f('reward'), cost: f('cost'), settings: { maxNewTokens: 4 } };
  runEval = await finishedEval({ run: runIds[0], ...common });
  modelEval = await finishedEval({ model: f('other'), reference: f('policy'), ...common });
}, 300_000);

describe('Results view', () => {
  it('one row per evaluation with ± SE, the loss colour, sorting, best per column, and the responses of a row', async () => {
    const { page, errors } = await openApp(browser, web, '#/runs');
    await page.click('[data-testid="nav-results"]');
    await page.waitForSelector('[data-testid="results-table"]');
    const rowIds = async () =>
      page.$$eval('[data-testid^="result-row-"]', (els) => els.map((e) => Number(e.getAttribute('data-testid')!.replace('result-row-', ''))));
    expect((await rowIds()).sort()).toEqual([runEval.id, modelEval.id].sort());

    const help = (await page.textContent(`[data-testid="cell-${runEval.id}-help"]`))!.trim();
    expect(help).toBe(`${runEval.summary!.help!.mean.toFixed(3)} ± ${runEval.summary!.help!.se!.toFixed(3)}`.replace(/-/g, '−'));
    expect(await page.textContent(`[data-testid="cell-${runEval.id}-sr"]`)).toContain('%');
    // the run's row carries bdpo's colour (ui.md: one colour per loss, everywhere)
    expect(await page.getAttribute(`[data-testid="result-row-${runEval.id}"] .loss-chip`, 'data-loss')).toBe('bdpo');
    const shadow = await page.$eval(`[data-testid="result-row-${runEval.id}"]`, (el) => getComputedStyle(el).boxShadow);
    expect(shadow).toContain('rgb(176, 122, 161)');

    // sorting by Help puts the higher mean reward first; again reverses; the best Help is bold
    const byHelp = [runEval, modelEval].sort((a, b) => b.summary!.help!.mean - a.summary!.help!.mean).map((e) => e.id);
    await page.click('[data-testid="sort-help"]');
    expect(await rowIds()).toEqual(byHelp);
    await page.click('[data-testid="sort-help"]');
    expect(await rowIds()).toEqual([...byHelp].reverse());
    expect(await page.getAttribute(`[data-testid="cell-${byHelp[0]}-help"]`, 'class')).toContain('best');
    // lower Harm is better: sorting by Harm puts the lower mean cost first
    await page.click('[data-testid="sort-harm"]');
    const byHarm = [runEval, modelEval].sort((a, b) => a.summary!.harm!.mean - b.summary!.harm!.mean).map((e) => e.id);
    expect(await rowIds()).toEqual(byHarm);

    // a row opens its responses
    await page.click(`[data-testid="result-row-${modelEval.id}"]`);
    await page.waitForSelector('[data-testid="eval-responses"]');
    expect(page.url()).toContain(`#/results/${modelEval.id}`);
    const stored = await api<{ rows: { prompt: string; response: string; reward: number }[] }>(web, 'evals:responses', { id: modelEval.id });
    const cells = await page.$$eval('[data-testid="response-0"] td', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(cells[1]).toBe('How do I bake bread?');
    expect(cells[2]).toBe(stored.rows[0].response);
    expect(await page.$$('[data-testid^="response-"]')).toHaveLength(4);
    expect(errors).toEqual([]);
  });

  it('exports the table as CSV with every number and its standard error', async () => {
    const { page } = await openApp(browser, web, '#/results');
    await page.waitForSelector('[data-testid="results-table"]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-results-csv"]')]);
    const rows = parse(fs.readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual([...EVAL_TABLE_HEADER]);
    const mine = rows.find((r) => r.eval_id === String(runEval.id))!;
    expect(mine).toMatchObject({ loss: 'bdpo', n: '4' });
    expect(Number(mine.harm_se)).toBeCloseTo(runEval.summary!.harm!.se!, 10);
    expect(Number(mine.win_rate)).toBeCloseTo(runEval.summary!.winRate!.mean, 10);
  });

  it('the form shows the lab’s message next to the field, then starts an evaluation that lands in the table', async () => {
    const { page } = await openApp(browser, web, '#/results');
    await page.waitForSelector('[data-testid="eval-form"]');
    await page.click('[data-testid="eval-source-model"]');
    await page.fill('[data-testid="eval-model"]', f('other'));
    await page.fill('[data-testid="eval-prompts"]', f('prompts.jsonl'));
    await page.fill('[data-testid="eval-reward"]', f('no-such-scorer'));
    await page.click('[data-testid="eval-start"]');
    await page.waitForSelector('[data-testid="eval-error-reward"]');
    expect(await page.textContent('[data-testid="eval-error-reward"]')).toContain(`${f('no-such-scorer')}: no such folder`);

    await page.fill('[data-testid="eval-reward"]', f('reward'));
    await page.fill('[data-testid="eval-samples"]', '2');
    await page.fill('[data-testid="eval-max-new"]', '3');
    await page.click('[data-testid="eval-start"]');
    await until(() => /#\/results\/\d+/.test(page.url()), 'the new evaluation to open');
    const id = Number(/#\/results\/(\d+)/.exec(page.url())![1]);
    await page.waitForSelector(`[data-testid="result-row-${id}"] [data-status="done"]`, { timeout: 120_000 });
    await page.waitForSelector('[data-testid="response-1"]');
    expect(await page.$$('[data-testid^="response-"]')).toHaveLength(2);
    expect((await page.textContent(`[data-testid="cell-${id}-harm"]`))!.trim()).toBe('—');
  });
});
