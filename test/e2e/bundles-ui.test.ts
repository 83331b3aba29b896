/**
 * Experiment bundles in the app (web mode, real Chromium, a real lab over HTTP): "Export bundle" on a run page
 * downloads the file; "Import bundle…" loads it with new ids; the same file dropped onto the window is recognised as
 * already imported; a file that is no bundle is refused by name. "Re-run" trains the config again and says that the
 * final metrics were reproduced exactly; a rerun whose numbers differ shows which ones and by how much. A sweep's
 * page exports the whole sweep.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { api, finishedRun, openApp, until, waitForRuns, type WebLab, withWebLabAndChromium } from './harness';

let web: WebLab;
let browser: Browser;
withWebLabAndChromium((w, b) => {
  web = w;
  browser = b;
});

/** Drops files onto the page as a user dragging them from the desktop would (dragenter, dragover, drop on the body). */
async function dropFiles(page: Page, files: { name: string; bytes: Buffer }[]): Promise<void> {
  await page.evaluate(
    (list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      const target = document.querySelector('[data-testid="app-root"]')!;
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })),
  );
}

const noticeState = (page: Page) => page.getAttribute('[data-testid="bundle-import-notice"]', 'data-state');

describe('bundles in the app', () => {
  it('export on the run page → import by the file picker (new ids) → the same file dropped: already imported; a non-bundle: refused', async () => {
    const id = await finishedRun(web, 'to bundle', { steps: 30, refSteps: 5, evalEvery: 10, seed: 3 });
    const source = web.lab.store.runs.get(id)!;
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-bundle"]')]);
    expect(download.suggestedFilename()).toBe(`run-${id}.dpolab.json.gz`);
    const file = path.join(web.dir, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = fs.readFileSync(file);
    const inside = JSON.parse(zlib.gunzipSync(bytes).toString('utf8')) as { format: string; content: { runs: { sourceId: number; final: unknown }[] } };
    expect(inside.format).toBe('dpo-lab-bundle');
    expect(inside.content.runs.map((r) => r.sourceId)).toEqual([id]);
    expect(inside.content.runs[0].final).toEqual(source.final);
    await page.waitForSelector('[data-testid="bundle-saved"]');

    await page.goto(`${web.server.url}#/runs`);
    await page.waitForSelector('[data-testid="runs-view"]');
    const before = web.lab.store.runs.list({}).length;
    await page.setInputFiles('[data-testid="import-bundle-input"]', file);
    await until(async () => (await noticeState(page)) === 'done', 'the import to finish', 20_000);
    const message = (await page.textContent('[data-testid="bundle-import-message"]')) ?? '';
    expect(message).toMatch(/^Imported: imported run-\d+\.dpolab\.json\.gz as/);
    expect(web.lab.store.runs.list({}).length).toBe(before + 1);
    const newId = Math.max(...web.lab.store.runs.list({}).map((r) => r.id));
    expect(newId).not.toBe(id);
    expect(web.lab.store.runs.get(newId)!.final).toEqual(source.final);
    // the notice links to the new run, and the runs list shows it
    await page.click(`[data-testid="bundle-import-run-${newId}"]`);
    await page.waitForSelector(`[data-testid="run-view"][data-run-id="${newId}"]`);

    // the same file again, dropped anywhere on the window: recognised, nothing added
    await dropFiles(page, [{ name: download.suggestedFilename(), bytes }]);
    await until(
      async () => (await page.getAttribute('[data-testid="bundle-import-notice"]', 'data-duplicate')) === 'true',
      'the repeat to be recognised',
      20_000,
    );
    expect(await page.textContent('[data-testid="bundle-import-message"]')).toContain('Already imported');
    expect(await page.textContent('[data-testid="bundle-import-message"]')).toContain('already imported');
    expect(await page.$(`[data-testid="bundle-import-run-${newId}"]`)).not.toBeNull();
    expect(web.lab.store.runs.list({}).length).toBe(before + 1);

    // anything else dropped is refused with its name; nothing added, the page still works
    await dropFiles(page, [{ name: 'notes.txt', bytes: Buffer.from('not a bundle') }]);
    await until(async () => (await noticeState(page)) === 'error', 'the refusal', 20_000);
    expect(await page.textContent('[data-testid="bundle-import-error"]')).toContain('notes.txt: not a DPO Lab bundle');
    expect(web.lab.store.runs.list({}).length).toBe(before + 1);
    await page.click('[data-testid="bundle-import-dismiss"]');
    expect(await page.$('[data-testid="bundle-import-notice"]')).toBeNull();
    // the refused file's request is the only failed one (Chromium logs its 400)
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  });

  it('Re-run on a run page: the rerun reproduces the final metrics exactly, and a differing one shows the differences', async () => {
    const id = await finishedRun(web, 'to rerun', { steps: 30, refSteps: 5, evalEvery: 10, seed: 5 });
    const { page, errors } = await openApp(browser, web, `#/runs/${id}`);
    await page.waitForSelector('[data-testid="run-view"][data-status="done"]');
    expect(await page.$('[data-testid="reruns"]')).toBeNull();
    await page.click('[data-testid="rerun"]');
    const line = await page.waitForSelector('[data-testid="reruns"] [data-testid^="rerun-line-"]');
    const rerunId = Number((await line.getAttribute('data-testid'))!.replace('rerun-line-', ''));
    expect(rerunId).toBeGreaterThan(id);
    expect(await waitForRuns(web, [rerunId])).toEqual(['done']);
    await page.waitForSelector(`[data-testid="rerun-line-${rerunId}"][data-exact="true"]`, { timeout: 20_000 });
    expect(await page.textContent(`[data-testid="rerun-line-${rerunId}"] [data-testid="rerun-verdict"]`)).toMatch(
      /reproduced exactly: all \d+ final metrics identical/,
    );

    // the rerun's own page names the run it repeats, with the same verdict
    await page.click(`[data-testid="rerun-line-${rerunId}"] a`);
    await page.waitForSelector(`[data-testid="run-view"][data-run-id="${rerunId}"]`);
    await page.waitForSelector(`[data-testid="rerun-line-${id}"][data-exact="true"]`);
    expect(await page.textContent(`[data-testid="rerun-line-${id}"]`)).toContain('rerun of');

    // a rerun that came out differently (another backend, say): the metric, both values and the difference
    const store = web.lab.store;
    const original = store.runs.get(id)!;
    const final = { ...(original.final as Record<string, number>) };
    final.expectedUtility += 0.125;
    const other = store.runs.create({ name: 'differs', kind: 'synthetic', config: original.config, seed: original.seed ?? undefined });
    store.runs.finish(other, 'done', { final });
    store.artifacts.put(other, 'rerun-of', String(id), String(id));
    await page.goto(`${web.server.url}#/runs/${id}`);
    await page.waitForSelector(`[data-testid="rerun-line-${other}"][data-exact="false"]`);
    expect(await page.textContent(`[data-testid="rerun-line-${other}"] [data-testid="rerun-verdict"]`)).toContain('1 of');
    const diff = await page.$$eval(`[data-testid="rerun-line-${other}"] [data-testid="rerun-differences"] tr`, (trs) =>
      trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())),
    );
    expect(diff).toEqual([['expectedUtility', String(original.final!.expectedUtility), String(final.expectedUtility), '1.25e-1']]);
    expect(errors).toEqual([]);
  });

  it('a sweep page exports the whole sweep as one bundle', async () => {
    const { sweepId, runIds } = await api<{ sweepId: number; runIds: number[] }>(web, 'sweeps:start', {
      name: 'two betas',
      seeds: 1,
      steps: 20,
      base: { refSteps: 5, evalEvery: 10 },
      grid: { beta: [0.1, 0.5] },
    });
    await waitForRuns(web, runIds);
    const { page, errors } = await openApp(browser, web, `#/sweeps/${sweepId}`);
    await page.waitForSelector('[data-testid="export-sweep-bundle"]:not([disabled])');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-sweep-bundle"]')]);
    expect(download.suggestedFilename()).toBe(`sweep-${sweepId}.dpolab.json.gz`);
    const inside = JSON.parse(zlib.gunzipSync(fs.readFileSync((await download.path())!)).toString('utf8')) as {
      content: { sweep: { sourceId: number }; runs: { sourceId: number }[] };
    };
    expect(inside.content.sweep.sourceId).toBe(sweepId);
    expect(inside.content.runs.map((r) => r.sourceId).sort()).toEqual([...runIds].sort());
    expect(errors).toEqual([]);
  });
});
