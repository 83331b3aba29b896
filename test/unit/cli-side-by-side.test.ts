/**
 * Issue 8 item 13 (CLI): several losses side by side, `runs` with name and mask (model for LLM runs), the
 * Figure 2 command, and a dataset file over the size limit refused before anything is read or saved.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { MAX_DATASET_FILE_BYTES } from '@shared/synthetic-config';
import { runCli } from './cli-main';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('side.db');
const lab = (args: string[]) => runCli(db, args);
const small = ['--steps', '30', '--ref-steps', '10', '--k', '6', '--pairs-per-prompt', '10', '--eval-every', '10'];
const runCount = async () => (JSON.parse((await lab(['runs', '--json'])).stdout) as unknown[]).length;

interface Outcome {
  runId: number;
  status: string;
  config: { loss: string; mask: number };
  probs: number[][];
}

describe('CLI: losses side by side, runs table, figure2', () => {
  it('run synthetic --loss dpo,bdpo trains one run per loss on the same dataset (TRL names accepted)', async () => {
    const r = await lab(['run', 'synthetic', '--loss', 'sigmoid,bdpo', '--mask', '0.2', '--name', 'pair', ...small, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runs } = JSON.parse(r.stdout) as { runs: Outcome[] };
    expect(runs.map((o) => [o.config.loss, o.status])).toEqual([
      ['dpo', 'done'],
      ['bdpo', 'done'],
    ]);
    for (const o of runs) expect(o.probs).toHaveLength(6);
    const check = createLab({ dbFile: db, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    try {
      const files = await Promise.all(runs.map((o) => check.service.invoke('runs:datasetFile', { id: o.runId })));
      const contents = files.map((f) => (f.ok ? (f.value as { content: string }).content : f.error.message));
      expect(contents[0]).toBe(contents[1]);
      const names = runs.map((o) => check.store.runs.get(o.runId)?.name);
      expect(names).toEqual(['pair · dpo', 'pair · bdpo']);
    } finally {
      check.close();
    }
    const text = await lab(['run', 'synthetic', '--loss', 'dpo,ipo', ...small]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^run \d+ dpo done/m);
    expect(text.stdout).toMatch(/^run \d+ ipo done/m);
  });

  it('refuses an unknown loss in the list, naming it, and saves nothing', async () => {
    const before = await runCount();
    const r = await lab(['run', 'synthetic', '--loss', 'dpo,nope', ...small]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--loss: unknown loss "nope"/);
    expect(await runCount()).toBe(before);
  });

  it('runs shows each run’s name and mask, and an LLM run’s model folder name', async () => {
    const store = createLab({ dbFile: db, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    let llmId: number;
    try {
      llmId = store.store.runs.createMany([{ name: 'hh lora', kind: 'llm', config: { loss: 'dpo', model: '/models/tiny-gpt2/', data: '/d/hh.jsonl' } }])[0];
    } finally {
      store.close();
    }
    const r = await lab(['runs']);
    expect(r.code, r.stderr).toBe(0);
    const [head, ...rows] = r.stdout.trim().split('\n');
    expect(head.split(/\s{2,}/)).toEqual(['id', 'status', 'kind', 'loss', 'seed', 'mask/model', 'expectedUtility', 'created', 'name']);
    const cells = (line: string) => line.split(/\s{2,}/);
    const pair = rows.map(cells).filter((c) => c[8]?.startsWith('pair · '));
    expect(pair.map((c) => [c[3], c[5], c[8]])).toEqual([
      ['bdpo', '0.2', 'pair · bdpo'],
      ['dpo', '0.2', 'pair · dpo'],
    ]);
    const llm = rows.map(cells).find((c) => c[0] === String(llmId));
    expect(llm?.[2]).toBe('llm');
    expect(r.stdout).toMatch(new RegExp(`^${llmId}\\s.*\\stiny-gpt2\\s.*hh lora$`, 'm'));
  });

  it('figure2 trains DPO and bDPO side by side and writes the two final heatmaps as SVG and CSV', async () => {
    const out = tmp.file('fig/nested');
    const r = await lab(['figure2', ...small, '--seed', '3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { runs: Outcome[]; files: string[] };
    expect(res.runs.map((o) => o.config.loss)).toEqual(['dpo', 'bdpo']);
    expect(res.files.map((f) => f.slice(out.length + 1))).toEqual([
      'figure2.svg',
      `figure2-run${res.runs[0].runId}-dpo-probs.csv`,
      `figure2-run${res.runs[1].runId}-bdpo-probs.csv`,
    ]);
    const svg = fs.readFileSync(res.files[0], 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // two panels of K×K cells, each titled with its loss and run
    expect(svg.match(/<title>π\(y=/g)).toHaveLength(2 * 36);
    expect(svg).toContain(`dpo · run ${res.runs[0].runId}`);
    expect(svg).toContain(`bdpo · run ${res.runs[1].runId}`);
    const rows = parse(fs.readFileSync(res.files[2], 'utf8'), { columns: true, cast: true }) as Record<string, number>[];
    expect(rows).toHaveLength(6);
    rows.forEach((row, x) => {
      expect(row.x).toBe(x);
      const ps = Array.from({ length: 6 }, (_, y) => row[`y${y}`]);
      expect(ps).toEqual(res.runs[1].probs[x].map((p) => expect.closeTo(p, 10)));
    });
    const text = await lab(['figure2', ...small]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/dpo · run \d+\s+bdpo · run \d+/);
    expect(text.stdout).toContain('rows: prompt x, columns: response y');
    expect(text.stdout.split('\n').filter((l) => /^\s+\d+ │/.test(l))).toHaveLength(6);
  });

  it(`refuses a dataset file over ${MAX_DATASET_FILE_BYTES / 1024 / 1024} MiB before reading it, naming the file and the limit`, async () => {
    const big = tmp.file('huge-dataset.json');
    const fd = fs.openSync(big, 'w');
    fs.ftruncateSync(fd, MAX_DATASET_FILE_BYTES + 1); // sparse: no disk used, nothing worth reading
    fs.closeSync(fd);
    const before = await runCount();
    const r = await lab(['run', 'synthetic', '--dataset', big, ...small]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--dataset: ${big} is 32 MiB, larger than the 32 MiB limit for a dataset file`);
    expect(await runCount()).toBe(before);
  });
});
