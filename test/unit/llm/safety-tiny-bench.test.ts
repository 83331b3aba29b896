/**
 * The safety-tiny pipeline end to end on the smoke-test budget (every stage runs; the numbers are not meant to be
 * good), and the CLI's refusals of bad flags. The real budget's grid is measured by `lab bench safety-tiny`.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { runSafetyTiny, SAFETY_TINY_QUICK_BUDGET } from '../../../src-main/engine/llm/bench/safety-tiny';
import { runCli } from '../cli-main';
import { tempDir } from '../tmp';

const require = createRequire(import.meta.url);
const tmp = tempDir('dpo-lab-safety-bench-');
afterAll(async () => {
  await tf.setBackend('cpu');
  tmp.cleanup();
});

it('runs SFT, both scorers, two losses and the evaluations, one row per model', { timeout: 900_000 }, async () => {
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  expect(await tf.setBackend('wasm')).toBe(true);
  const lines: string[] = [];
  const r = await runSafetyTiny({ seeds: [3], losses: ['dpo', 'bdpo'], workDir: tmp.dir, budget: SAFETY_TINY_QUICK_BUDGET, log: (l) => lines.push(l) });
  expect(r.rows.map((x) => [x.loss, x.seed])).toEqual([
    ['sft', 3],
    ['dpo', 3],
    ['bdpo', 3],
  ]);
  for (const row of r.rows) {
    for (const k of ['help', 'harm', 'sr', 'oracleHelp', 'oracleHarm', 'oracleSr'] as const) expect(Number.isFinite(row[k]), `${row.loss} ${k}`).toBe(true);
    for (const k of ['sr', 'oracleSr'] as const) expect(row[k]).toBeGreaterThanOrEqual(0);
    for (const k of ['sr', 'oracleSr'] as const) expect(row[k]).toBeLessThanOrEqual(1);
  }
  expect(r.seconds).toBeGreaterThan(0);
  for (const f of ['sft/model.safetensors', 'reward/model.safetensors', 'cost/model.safetensors', 'policies/dpo/model.safetensors', 'preference.jsonl'])
    expect(fs.existsSync(path.join(tmp.dir, 'seed-3', f)), f).toBe(true);
  expect(lines.some((l) => /reward model, held-out accuracy/.test(l))).toBe(true);
});

it('lab bench safety-tiny refuses bad flags before any work, naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['bench', 'safety-tiny', '--seeds', 'x'], /--seeds: expected a whole number from 1 to 100, got "x"/],
    [['bench', 'safety-tiny', '--losses', 'dpo,nope'], /--losses: unknown loss "nope"/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(tmp.file('cli.db'), args);
    expect(r.code, args.join(' ')).toBe(2);
    expect(r.stderr).toMatch(message);
  }
});
