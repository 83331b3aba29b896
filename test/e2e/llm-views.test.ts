/**
 * The LLM lab's screens in Chromium against a real web-mode lab: Models, Datasets, the LLM launcher (fields from
 * LlmConfigSchema, presets, the lab's messages next to the field they name, lists kept in localStorage), and the
 * whole flow on a tiny GPT-2-shaped model written by the test with an HH-RLHF slice: add model, add data,
 * launch, watch it finish, export.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { LlmConfigSchema, LLM_PRESETS } from '@shared/llm-config';
import { schemaFields } from '@shared/schema-fields';
import { ROOT, api, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';
import { writeTinyModel } from '../support/tiny-models';

const SHOTS = '/tmp/h6-shots';
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

/** The whole view: the app scrolls inside its content pane, so the window grows to fit it for the picture. */
async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1440, height: 900 };
  const h = await page.evaluate(() => document.querySelector('.content')?.scrollHeight ?? 0);
  await page.setViewportSize({ width: size.width, height: Math.min(2400, Math.max(size.height, h + 48)) });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  await page.setViewportSize(size);
}

/** The lab's 400 answers to bad paths are expected; Chromium logs each failed request as a console error. */
const unexpected = (errors: string[]) => errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e));

const text = async (page: Page, testid: string) => (await page.textContent(`[data-testid="${testid}"]`))?.trim() ?? '';

describe('LLM views', () => {
  it('the rail reaches LLM, Models and Datasets; each starts with an empty state', async () => {
    const { page, errors } = await openApp(browser, web, '#/runs');
    await page.click('[data-testid="nav-models"]');
    await page.waitForSelector('[data-testid="models-empty"]');
    await page.click('[data-testid="nav-datasets"]');
    await page.waitForSelector('[data-testid="datasets-empty"]');
    await page.click('[data-testid="nav-llm"]');
    await page.waitForSelector('[data-testid="llm-launcher"]');
    expect(await page.getAttribute('[data-testid="nav-llm"]', 'class')).toContain('active');
    expect(errors).toEqual([]);
  });

  it("Models and Datasets: a bad path shows the lab's message naming it, and nothing is added", async () => {
    const { page, errors } = await openApp(browser, web, '#/models');
    const missing = path.join(web.dir, 'no-such-model');
    await page.fill('[data-testid="model-path"]', missing);
    await page.click('[data-testid="add-model"]');
    await page.waitForSelector('[data-testid="model-error"]');
    expect(await text(page, 'model-error')).toContain(missing);
    expect(await page.$('[data-testid="models-list"]')).toBeNull();
    expect(await page.evaluate(() => localStorage.getItem('dpo-lab:models'))).toBeNull();
    await shot(page, 'models-error');

    await page.click('[data-testid="nav-datasets"]');
    const badFile = path.join(web.dir, 'missing.jsonl');
    await page.fill('[data-testid="data-path"]', badFile);
    await page.click('[data-testid="add-dataset"]');
    await page.waitForSelector('[data-testid="dataset-error"]');
    expect(await text(page, 'dataset-error')).toContain(badFile);
    expect(await page.$('[data-testid="datasets-list"]')).toBeNull();
    expect(unexpected(errors)).toEqual([]);
  });

  it('launcher: every field of LlmConfigSchema under its group, LoRA fields follow the fine-tuning, presets, losses side by side', async () => {
    const { page, errors } = await openApp(browser, web, '#/llm');
    await page.waitForSelector('[data-testid="llm-launcher"]');
    const fields = schemaFields(LlmConfigSchema).filter((f) => !['model', 'data', 'loss'].includes(f.key));
    // clip and label smoothing show when a loss that reads them is picked
    await page.click('[data-testid="llm-loss-nbdpo-asymm"] input');
    await page.click('[data-testid="llm-loss-cdpo"] input');
    for (const f of fields) {
      const inGroup = await page.$(`[data-testid="llm-group-${f.group}"] [data-testid="field-${f.key}"]`);
      expect(inGroup, `${f.key} under ${f.group}`).not.toBeNull();
    }
    expect((await text(page, 'llm-launch')).trim()).toBe('Launch 3 runs');
    expect(await page.inputValue('#cfg-loraTargets')).toBe('');

    await page.selectOption('#cfg-finetune', 'full');
    await page.waitForSelector('[data-testid="field-loraRank"]', { state: 'detached' });
    await page.selectOption('#cfg-finetune', 'lora');
    await page.waitForSelector('[data-testid="field-loraRank"]');

    const paper = LLM_PRESETS.paper.config;
    await page.click('[data-testid="llm-preset-paper"]');
    expect(Number(await page.inputValue('#cfg-lr'))).toBe(paper.lr);
    expect(await page.inputValue('#cfg-finetune')).toBe('full');
    expect(Number(await page.inputValue('#cfg-gradAccum'))).toBe(paper.gradAccum);
    await page.click('[data-testid="llm-preset-cpu-lora"]');
    expect(await page.inputValue('#cfg-finetune')).toBe('lora');

    // the schema's own messages, before anything is sent
    await page.fill('#cfg-lr', '-1');
    await page.click('[data-testid="llm-launch"]');
    await page.waitForSelector('[data-testid="error-model"]');
    expect(await text(page, 'error-model')).toBe('model: give a path');
    expect(await text(page, 'error-lr')).toBe('lr must be positive');
    await page.fill('#cfg-lr', '0.0001');
    await shot(page, 'llm-launcher');
    expect(errors).toEqual([]);
  });

  it("launcher: paths that do not exist get the lab's messages next to the model and data fields", async () => {
    const { page, errors } = await openApp(browser, web, '#/llm');
    const model = path.join(web.dir, 'nowhere-model');
    const data = path.join(web.dir, 'nowhere.jsonl');
    await page.fill('[data-testid="llm-model-path"]', model);
    await page.fill('[data-testid="llm-data-path"]', data);
    await page.click('[data-testid="llm-launch"]');
    await page.waitForSelector('[data-testid="error-data"]');
    expect(await text(page, 'error-model')).toContain(model);
    expect(await text(page, 'error-data')).toContain(data);
    expect(page.url()).toMatch(/#\/llm/);
    expect(await api<unknown[]>(web, 'runs:list', { kind: 'llm' })).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
  });

  it('the lists live in localStorage: saved models and datasets are listed and offered by the launcher', async () => {
    const { page, errors } = await openApp(browser, web, '#/runs');
    const info = {
      path: '/models/tiny-gpt2',
      modelType: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      parameters: 12345,
      dtypes: ['F32'],
      vocabSize: 273,
      contextLength: 128,
      layers: 2,
      hiddenSize: 16,
      heads: 4,
      kvHeads: 4,
      tieWordEmbeddings: true,
      hasChatTemplate: false,
      eosToken: '<|endoftext|>',
      weightBytes: 49380,
      memoryEstimate: { lora: 2e6, full: 5e9, maxLength: 512, batchSize: 1 },
      wasmHeapCap: 4e9,
    };
    await page.evaluate((i) => {
      localStorage.setItem('dpo-lab:models', JSON.stringify([{ path: i.path, addedAt: Date.now(), info: i }]));
      localStorage.setItem(
        'dpo-lab:datasets',
        JSON.stringify([
          {
            path: '/data/pairs.jsonl',
            addedAt: Date.now(),
            format: 'generic',
            preference: 'better',
            summary: { format: 'generic', pairs: 7, totalRows: 9, skippedCount: 2 },
          },
        ]),
      );
    }, info);
    await page.goto(`${web.server.url}#/models`);
    await page.waitForSelector('[data-testid="model-detail"]');
    expect(await text(page, 'model-arch')).toContain('GPT2LMHeadModel');
    expect(await text(page, 'model-chat-template')).toBe('no');
    const mem = await text(page, 'model-memory');
    expect(mem).toContain('fits');
    expect(mem).toContain('too large');
    await shot(page, 'models-saved');

    await page.click('[data-testid="nav-llm"]');
    await page.selectOption('[data-testid="llm-model-select"]', '/models/tiny-gpt2');
    expect(await page.inputValue('[data-testid="llm-model-path"]')).toBe('/models/tiny-gpt2');
    await page.selectOption('[data-testid="llm-data-select"]', '/data/pairs.jsonl');
    expect(await page.inputValue('[data-testid="llm-data-path"]')).toBe('/data/pairs.jsonl');
    expect(await page.inputValue('#cfg-dataFormat')).toBe('generic');

    await page.click('[data-testid="nav-models"]');
    await page.click('[data-testid="remove-model"]');
    await page.waitForSelector('[data-testid="models-empty"]');
    expect(await page.evaluate(() => localStorage.getItem('dpo-lab:models'))).toBe('[]');
    expect(errors).toEqual([]);
  });
});

describe('LLM flow on a tiny model', () => {
  it('add a tiny GPT-2 and an HH slice, launch a short run, watch it finish, see its panels, export the adapter', async () => {
    const modelDir = path.join(web.dir, 'tiny-gpt2');
    writeTinyModel(modelDir, { arch: 'gpt2', hidden: 16, layers: 2, heads: 2, maxPositions: 256, seed: 3 });
    const { page, errors } = await openApp(browser, web, '#/models');

    await page.fill('[data-testid="model-path"]', modelDir);
    await page.click('[data-testid="add-model"]');
    await page.waitForSelector('[data-testid="model-detail"]');
    expect(await text(page, 'model-arch')).toContain('gpt2');
    await shot(page, 'models');

    await page.click('[data-testid="nav-datasets"]');
    await page.fill('[data-testid="data-path"]', HH);
    await page.selectOption('[data-testid="data-model"]', modelDir);
    await page.fill('#data-maxlen', '128');
    await page.click('[data-testid="add-dataset"]');
    await page.waitForSelector('[data-testid="dataset-preview"]');
    expect(await text(page, 'dataset-format')).toContain('hh');
    expect(Number((await text(page, 'dataset-rows')).replace(/,/g, ''))).toBe(200);
    expect(await page.$$('[data-testid="preview-pair"]')).not.toHaveLength(0);
    expect(await page.$$('[data-testid="pair-tokens"]')).not.toHaveLength(0);
    // the fixture's line 87 has an empty chosen response
    const skipped = await text(page, 'dataset-skipped-rows');
    expect(skipped).toContain('87');
    expect(skipped).toContain('chosen');
    expect(JSON.parse((await page.evaluate(() => localStorage.getItem('dpo-lab:datasets'))) ?? '[]')).toMatchObject([{ path: HH }]);
    await shot(page, 'datasets');

    await page.click('[data-testid="train-dataset"]');
    await page.waitForSelector('[data-testid="llm-launcher"]');
    await until(async () => (await page.inputValue('[data-testid="llm-model-path"]')) === modelDir, 'the model to be picked', 5000);
    expect(await page.inputValue('[data-testid="llm-data-path"]')).toBe(HH);
    const set = async (key: string, v: number) => page.fill(`#cfg-${key}`, String(v));
    await set('maxLength', 128);
    await set('maxPairs', 16);
    await set('maxEvalPairs', 4);
    await set('steps', 8);
    await set('batchSize', 1);
    await set('evalEvery', 4);
    await set('checkpointEvery', 1);
    await page.click('[data-testid="llm-launch"]');
    await page.waitForSelector('[data-testid="run-view"]', { timeout: 15_000 });
    const runId = Number(await page.getAttribute('[data-testid="run-view"]', 'data-run-id'));

    // cancel once the first step is in, then resume from the checkpoint: the curve goes on without repeats
    // the page opened before any step: what its loss chart draws came through the live run:metrics events
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0, null, {
      timeout: 120_000,
    });
    await page.click('[data-testid="cancel-run"]');
    await page.waitForSelector('[data-testid="run-view"][data-status="cancelled"]', { timeout: 60_000 });
    await page.click('[data-testid="resume-run"]');
    // the click's request may not have reached the lab yet: until it has, the run still reads 'cancelled'
    await until(() => web.lab.store.runs.statusOf(runId) !== 'cancelled', 'the run to be requeued', 30_000);
    const [status] = await waitForRuns(web, [runId], 180_000);
    const run = await api<{ error: string | null }>(web, 'runs:get', { id: runId });
    expect(status, run.error ?? '').toBe('done');
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    for (const id of ['loss', 'rewards', 'margins', 'accuracies', 'logps', 'balance', 'logp-grad-ratio', 'grad', 'throughput', 'eval-loss'])
      expect(await page.$(`[data-testid="chart-${id}"]`), id).not.toBeNull();
    expect(await page.$('[data-testid="heatmap"]')).toBeNull();
    await until(async () => Number(await page.getAttribute('[data-testid="chart-eval-loss"]', 'data-points')) > 0, 'the eval curve to be drawn', 10_000);
    expect(await page.$('[data-testid="resume-run"]')).toBeNull();
    const { loss } = await api<Record<string, { steps: number[] }>>(web, 'runs:metrics', { id: runId, names: ['loss'] });
    expect(loss.steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await shot(page, 'llm-run');

    await page.click('[data-testid="export-adapter"]');
    const out = path.join(web.dir, 'exported-adapter');
    await page.fill('[data-testid="export-out"]', out);
    await page.click('[data-testid="export-go"]');
    await page.waitForSelector('[data-testid="export-result"], [data-testid="export-error"]');
    expect(await page.$('[data-testid="export-error"]')).toBeNull();
    expect(await text(page, 'export-result')).toContain('adapter_model.safetensors');
    expect(fs.existsSync(path.join(out, 'adapter_config.json'))).toBe(true);
    await shot(page, 'llm-export');
    // the same folder again, without "replace": the lab's refusal is shown, naming the folder
    await page.click('[data-testid="export-go"]');
    await page.waitForSelector('[data-testid="export-error"]');
    expect(await text(page, 'export-error')).toContain(out);
    await page.click('[data-testid="export-close"]');

    await page.click('[data-testid="clone-run"]');
    await page.waitForSelector('[data-testid="llm-launcher"]');
    await until(async () => (await page.inputValue('#cfg-steps')) === '8', 'the clone to fill the form', 10_000);
    expect(await page.inputValue('[data-testid="llm-model-path"]')).toBe(modelDir);
    expect(unexpected(errors)).toEqual([]);
  });
});

describe('LLM launcher, several losses', () => {
  it('two losses launch two runs, one per loss, and open them side by side in the compare view', async () => {
    const modelDir = path.join(web.dir, 'tiny-llama');
    writeTinyModel(modelDir, { arch: 'llama', hidden: 16, layers: 1, heads: 2, maxPositions: 256, seed: 5 });
    const { page, errors } = await openApp(browser, web, `#/llm?model=${encodeURIComponent(modelDir)}&data=${encodeURIComponent(HH)}`);
    await until(async () => (await page.inputValue('[data-testid="llm-model-path"]')) === modelDir, 'the model from the link', 5000);
    expect(await page.inputValue('[data-testid="llm-data-path"]')).toBe(HH);
    await page.click('[data-testid="llm-loss-bdpo"] input');
    for (const [k, v] of Object.entries({ maxLength: 96, maxPairs: 6, maxEvalPairs: 2, steps: 2, batchSize: 1, evalEvery: 0, checkpointEvery: 0 }))
      await page.fill(`#cfg-${k}`, String(v));
    expect(await text(page, 'llm-launch')).toBe('Launch 2 runs');
    await page.click('[data-testid="llm-launch"]');
    await page.waitForFunction(() => location.hash.startsWith('#/compare'), null, { timeout: 15_000 });
    const hash = await page.evaluate(() => location.hash);
    const ids = (new URLSearchParams(hash.split('?')[1]).get('ids') ?? '').split(',').filter(Boolean).map(Number);
    expect(ids).toHaveLength(2);
    const statuses = await waitForRuns(web, ids, 180_000);
    const runs = await Promise.all(ids.map((id) => api<{ loss: string; error: string | null }>(web, 'runs:get', { id })));
    expect(statuses, runs.map((r) => r.error).join('; ')).toEqual(['done', 'done']);
    expect(runs.map((r) => r.loss)).toEqual(['dpo', 'bdpo']);
    expect(unexpected(errors)).toEqual([]);
  });
});
