/**
 * Experiment bundles of LLM runs (issue 11 item 3): the bundle carries fingerprints (size and sha256) of every file of
 * the model folder and of the data file instead of the files themselves; the run imports into a fresh lab and re-runs
 * there on the same bytes, reproducing its final metrics; a rerun on files that differ is refused, naming the file,
 * before anything trains; `--model` points a rerun at a copy of the folder elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { runCli } from './cli-main';
import { tempDir } from './tmp';
import { writeTinyModel } from '../support/tiny-models';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const tmp = tempDir();
const model = tmp.file('tiny-gpt2');
const data = tmp.file('hh.jsonl.gz');
const dbA = tmp.file('a.db');
const dbB = tmp.file('b.db');
const file = tmp.file('llm-run.dpolab.json.gz');
beforeAll(() => {
  writeTinyModel(model, { arch: 'gpt2', seed: 5 });
  fs.copyFileSync(HH, data);
});
afterAll(() => tmp.cleanup());

interface Fingerprint {
  path: string;
  size: number;
  sha256: string;
}

function findFingerprints(x: unknown): { model: { files: Fingerprint[] }; data: Fingerprint } | null {
  if (!x || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  if (o.model && o.data && typeof o.data === 'object' && 'sha256' in (o.data as object)) return o as never;
  for (const v of Object.values(o)) {
    const f = findFingerprints(v);
    if (f) return f;
  }
  return null;
}

describe('experiment bundles of LLM runs', () => {
  let imported = 0;
  let sourceFinal: Record<string, number> = {};

  it('bundles an LLM run with the fingerprints of its model files and data file, and imports it into a fresh lab', async () => {
    const r = await runCli(dbA, [
      'run',
      'llm',
      '--model',
      model,
      '--data',
      data,
      '--max-length',
      '64',
      '--max-pairs',
      '12',
      '--steps',
      '2',
      '--eval-every',
      '0',
      '--threads',
      '1',
      '--seed',
      '3',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout) as { runId: number; final: Record<string, number> };
    sourceFinal = run.final;
    const b = await runCli(dbA, ['bundle', '--run', String(run.runId), '--out', file, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const content = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as unknown;
    const fp = findFingerprints(content);
    expect(fp, 'fingerprints in the bundle').not.toBeNull();
    const weights = fp!.model.files.find((f) => f.path === 'model.safetensors')!;
    expect(weights.size).toBe(fs.statSync(path.join(model, 'model.safetensors')).size);
    expect(weights.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fp!.data.size).toBe(fs.statSync(data).size);
    // the weights themselves do not travel
    expect(fs.statSync(file).size).toBeLessThan(weights.size);
    const i = await runCli(dbB, ['import', file, '--json']);
    expect(i.code, i.stderr).toBe(0);
    imported = (JSON.parse(i.stdout) as { runIds: number[] }).runIds[0];
  });

  it('re-runs the imported run on the same files and reproduces its final metrics', async () => {
    const r = await runCli(dbB, ['rerun', '--run', String(imported), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; final: Record<string, number>; comparison: { exact: boolean } };
    expect(out.final.loss).toBeCloseTo(sourceFinal.loss, 6);
    expect(out.comparison.exact, JSON.stringify(out.comparison)).toBe(true);
  });

  it('refuses a rerun on a changed model file, naming it, and re-runs from a copy given with --model', async () => {
    const copy = tmp.file('moved-model');
    fs.cpSync(model, copy, { recursive: true });
    const weights = path.join(model, 'model.safetensors');
    const bytes = fs.readFileSync(weights);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    const r = await runCli(dbB, ['rerun', '--run', String(imported), '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/model\.safetensors/);
    expect(r.stderr + r.stdout).toMatch(/differ|changed/);
    const ok = await runCli(dbB, ['rerun', '--run', String(imported), '--model', copy, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { comparison: { exact: boolean } }).comparison.exact).toBe(true);
  });
});
