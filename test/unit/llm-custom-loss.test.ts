/**
 * Issue 11 item 1 in the LLM lab: `run llm --loss-formula` trains a tiny GPT-2 (LoRA, real HH data, worker
 * processes) with a formula loss. The dpo formula retraces the dpo run from the same starting model; a reweighted
 * formula trains on two threads (its second thread compiles the formula too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from './cli-main';
import { tempDir } from './tmp';
import { writeTinyModel } from '../support/tiny-models';
import { BUILTIN_FORMULAS } from '@shared/formula';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const tmp = tempDir();
const model = tmp.file('tiny-gpt2');
const db = tmp.file('llm-custom.db');
beforeAll(() => writeTinyModel(model, { arch: 'gpt2', seed: 3 }));
afterAll(() => tmp.cleanup());

const RUN = [
  'run',
  'llm',
  '--model',
  model,
  '--data',
  HH,
  '--max-length',
  '80',
  '--max-pairs',
  '24',
  '--lr',
  '0.01',
  '--steps',
  '3',
  '--eval-every',
  '0',
  '--seed',
  '2',
];
const REWEIGHTED = 'w = sg(2 * sigmoid(logp_l - logp_w))\n-w * logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))';

interface Outcome {
  runId: number;
  status: string;
  config: Record<string, unknown>;
  final: Record<string, number> | null;
  error: string | null;
}

describe('custom (formula) losses in LLM runs', () => {
  let dpoLoss = 0;
  it('run llm --loss dpo --loss-formula (dpo typed in): the custom run retraces the dpo run', async () => {
    const r = await runCli(db, [...RUN, '--threads', '1', '--loss', 'dpo', '--loss-formula', BUILTIN_FORMULAS.dpo, '--loss-name', 'typed dpo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runs } = JSON.parse(r.stdout) as { runs: Outcome[] };
    expect(runs.map((o) => [o.status, o.config.loss, o.config.customLoss])).toEqual([
      ['done', 'dpo', undefined],
      ['done', 'custom', { name: 'typed dpo', formula: BUILTIN_FORMULAS.dpo }],
    ]);
    const [a, b] = [runs[0].final!, runs[1].final!];
    for (const k of ['loss', 'rewards/margins', 'balance/logp_grad_ratio', 'balance/log10_prob_ratio', 'grad_norm'])
      expect(Math.abs(b[k] - a[k]), `${k}: ${b[k]} vs ${a[k]}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a[k])));
    dpoLoss = a.loss;
  }, 240_000);

  it('a reweighted formula trains on two threads', async () => {
    const r = await runCli(db, [...RUN, '--threads', '2', '--loss-formula', REWEIGHTED, '--loss-name', 'reweighted', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Outcome;
    expect(o.status).toBe('done');
    expect(o.config.customLoss).toEqual({ name: 'reweighted', formula: REWEIGHTED });
    for (const k of ['loss', 'balance/logp_grad_ratio', 'grad_norm']) expect(Number.isFinite(o.final![k]), k).toBe(true);
    expect(Math.abs(o.final!.loss - dpoLoss)).toBeGreaterThan(1e-4);
    const listed = JSON.parse((await runCli(db, ['runs', '--json'])).stdout) as { id: number; name: string }[];
    expect(listed.find((x) => x.id === o.runId)?.name).toMatch(/^reweighted · tiny-gpt2 · LoRA r8 · seed 2$/);
    const d = new Database(db, { readonly: true });
    try {
      const lines = d.prepare('SELECT text FROM run_logs WHERE run_id = ?').all(o.runId) as { text: string }[];
      expect(lines.map((l) => l.text).join('\n')).toMatch(/two threads/);
    } finally {
      d.close();
    }
  }, 240_000);
});
