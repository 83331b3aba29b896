/**
 * A LoRA run on two threads (chosen responses on one, rejected on the other, gradients summed) trains the same
 * curve as on one thread: the split is exact for every loss of the registry, up to float32 summation order. So does
 * a run with activation checkpointing (blocks recomputed in the backward pass, LoRA dropout on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../unit/tmp';
import { writeTinyModel } from '../support/tiny-models';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const model = tmp.file('tiny-llama');

beforeAll(() => {
  writeTinyModel(model, { arch: 'llama', kvHeads: 2, seed: 4 });
});

function lab(db: string, args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'wasm', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function series(db: string, runId: number, name: string): number[] {
  const d = new Database(db, { readonly: true });
  try {
    const rows = d
      .prepare(`SELECT m.value AS value FROM metrics m JOIN metric_names n ON n.id = m.name_id WHERE m.run_id = ? AND n.name = ? ORDER BY m.step`)
      .all(runId, name) as { value: number }[];
    return rows.map((r) => r.value);
  } finally {
    d.close();
  }
}

function logText(db: string, runId: number): string {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT text FROM run_logs WHERE run_id = ? ORDER BY ts, rowid').all(runId) as { text: string }[]).map((r) => r.text).join('\n');
  } finally {
    d.close();
  }
}

describe('LLM training on two threads', () => {
  // LoRA dropout draws per batch tensor, so with dropout only runs on the same number of threads can agree
  it.each([
    { loss: 'dpo', first: ['--threads', '1'], second: ['--threads', '2'] },
    { loss: 'bdpo', first: ['--threads', '1'], second: ['--threads', '2'] },
    {
      loss: 'dpo',
      first: ['--threads', '2', '--lora-dropout', '0.1', '--gradient-checkpointing', 'off'],
      second: ['--threads', '2', '--lora-dropout', '0.1', '--gradient-checkpointing', 'on'],
    },
  ])('$loss, $second: retraces the $first curve (loss, grad norm, margins)', ({ loss, first, second }) => {
    const db = tmp.file(`threads-${loss}-${second.length}.db`);
    const base = ['run', 'llm', '--model', model, '--data', HH, '--max-length', '80', '--max-pairs', '24', '--lr', '0.01', '--loss', loss];
    const common = [...base, '--steps', '5', '--batch-size', '2', '--grad-accum', '2', '--eval-every', '0', '--seed', '2', '--json'];
    const one = lab(db, [...common, ...first]);
    expect(one.code, one.stderr).toBe(0);
    const two = lab(db, [...common, ...second]);
    expect(two.code, two.stderr).toBe(0);
    const [a, b] = [JSON.parse(one.stdout) as { runId: number }, JSON.parse(two.stdout) as { runId: number }];
    for (const name of ['loss', 'grad_norm', 'rewards/margins', 'balance/logp_grad_ratio']) {
      const x = series(db, a.runId, name);
      const y = series(db, b.runId, name);
      expect(x.length, name).toBe(5);
      expect(y.length, name).toBe(5);
      x.forEach((v, i) => expect(Math.abs(v - y[i]), `${name} at step ${i + 1}: ${v} vs ${y[i]}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))));
    }
    const logTwo = logText(db, b.runId);
    if (!/two threads/.test(logTwo)) expect.fail(`the two-thread run's log does not say it used two threads:\n${logTwo}`);
    if (second.includes('on') && !/activation checkpointing \(on\)/.test(logTwo))
      expect.fail(`the run's log does not say it checkpointed activations:\n${logTwo}`);
  });
});
