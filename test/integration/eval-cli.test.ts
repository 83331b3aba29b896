/**
 * `lab eval` / `lab evals` as a real process, on tiny random models and scorers: the stored rewards are the float64
 * reference's scores of prompt + response, Help/Harm/S.R./win rate follow from the stored responses, a run's
 * evaluation is stored with the run (and its log), the results table exports to CSV, and bad inputs say what is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import Database from 'better-sqlite3';
import { tempDir } from '../unit/tmp';
import { writeTinyModel } from '../support/tiny-models';
import { writeTinyScorer } from '../support/tiny-scorers';
import { referenceHiddenStates } from '../support/llm-reference';
import { loadTokenizer } from '../../src-main/engine/llm/tokenizer';
import { EVAL_TABLE_HEADER, type EvalResponseRow, type Stat } from '../../src-shared/eval';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const tmp = tempDir('dpo-lab-eval-');
afterAll(() => tmp.cleanup());

const policy = tmp.file('policy');
const reward = tmp.file('reward');
const cost = tmp.file('cost');
const headless = tmp.file('headless');
const prompts = tmp.file('prompts.jsonl');
let rewardModel: ReturnType<typeof writeTinyScorer>;

beforeAll(() => {
  writeTinyModel(policy, { arch: 'gpt2', seed: 3 });
  rewardModel = writeTinyScorer(reward, { arch: 'gpt2', seed: 4 });
  writeTinyScorer(cost, { arch: 'gpt2', seed: 5 });
  writeTinyScorer(headless, { arch: 'gpt2', seed: 6, scoreHead: false });
  // a blank line is skipped; other fields are ignored
  fs.writeFileSync(prompts, ['{"prompt":"How do I bake bread?"}', '{"prompt":"Tell me a joke","chosen":"x"}', '', '{"prompt":"What is 2+2?"}', ''].join('\n'));
});

function lab(db: string, args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'wasm', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

interface EvalOut {
  evalId: number;
  status: string;
  error: string | null;
  runId: number | null;
  loss: string | null;
  n: number;
  help: Stat | null;
  harm: Stat | null;
  sr: Stat | null;
  winRate: Stat | null;
  reference: string | null;
  responses?: EvalResponseRow[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('lab eval', () => {
  it('scores prompt + response with the scorers as the float64 reference does, and summarises them', async () => {
    const db = tmp.file('model.db');
    const args = ['eval', '--model', policy, '--prompts', prompts, '--reward', reward, '--cost', cost, '--reference', policy];
    const r = lab(db, [...args, '--max-new-tokens', '5', '--json', '--responses']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as EvalOut;
    expect(out).toMatchObject({ status: 'done', error: null, runId: null, n: 3 });
    const rows = out.responses!;
    expect(rows.map((x) => x.prompt)).toEqual(['How do I bake bread?', 'Tell me a joke', 'What is 2+2?']);
    for (const x of rows) expect(x.response.length).toBeGreaterThan(0);

    // the reward of each response: the reference forward pass of prompt + response, read at its last token
    const tok = await loadTokenizer(reward);
    const w = rewardModel.weights['score.weight'].values;
    for (const x of rows) {
      const h = referenceHiddenStates(rewardModel, tok.encode(x.prompt + x.response));
      const want = h[h.length - 1].reduce((s, v, i) => s + v * w[i], 0);
      expect(x.reward).toBeCloseTo(want, 3);
    }
    const rewards = rows.map((x) => x.reward!);
    const costs = rows.map((x) => x.cost!);
    expect(out.help!.mean).toBeCloseTo(mean(rewards), 10);
    expect(out.harm!.mean).toBeCloseTo(mean(costs), 10);
    expect(out.sr!.mean).toBeCloseTo(costs.filter((c) => c <= 0).length / 3, 10);
    // greedy decoding of the same model as the reference: every prompt ties
    for (const x of rows) expect(x.refResponse).toBe(x.response);
    expect(out.winRate).toEqual({ mean: 0.5, se: 0, n: 3 });

    const table = lab(db, ['evals', '--json']);
    expect(table.code, table.stderr).toBe(0);
    expect((JSON.parse(table.stdout) as EvalOut[]).map((e) => e.evalId)).toEqual([out.evalId]);
  });

  it("evaluates a run's checkpoint against its starting model, stores it with the run and exports the results table", () => {
    const db = tmp.file('run.db');
    const train = lab(db, ['run', 'llm', '--model', policy, '--data', HH, '--max-length', '64', '--max-pairs', '8', '--steps', '2', '--lr', '0.05', '--json']);
    expect(train.code, train.stderr).toBe(0);
    const runId = (JSON.parse(train.stdout) as { runId: number }).runId;
    const r = lab(db, ['eval', '--run', String(runId), '--prompts', prompts, '--reward', reward, '--samples', '2', '--max-new-tokens', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as EvalOut;
    expect(out).toMatchObject({ status: 'done', runId, loss: 'dpo', n: 2, harm: null, sr: null, reference: policy });
    expect(out.winRate!.n).toBe(2);

    const mine = lab(db, ['evals', '--run', String(runId), '--json']);
    expect((JSON.parse(mine.stdout) as EvalOut[]).map((e) => e.evalId)).toEqual([out.evalId]);
    const file = new Database(db, { readonly: true });
    const log = (file.prepare(`SELECT text FROM run_logs WHERE run_id = ? ORDER BY ts`).all(runId) as { text: string }[]).map((l) => l.text);
    file.close();
    expect(log.some((t) => t.startsWith(`eval ${out.evalId}: done: Help `))).toBe(true);

    const csvFile = tmp.file('results.csv');
    const csv = lab(db, ['evals', '--csv', csvFile]);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = parse(fs.readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual([...EVAL_TABLE_HEADER]);
    expect(rows[0]).toMatchObject({ eval_id: String(out.evalId), run_id: String(runId), loss: 'dpo', n: '2' });
    expect(Number(rows[0].help)).toBeCloseTo(out.help!.mean, 10);
  });

  it('says what is wrong with bad inputs', () => {
    const db = tmp.file('bad.db');
    const empty = tmp.file('empty.jsonl');
    fs.writeFileSync(empty, '\n\n');
    const base = ['eval', '--model', policy, '--reward', reward];

    let r = lab(db, [...base, '--prompts', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/empty\.jsonl: no prompts/);

    r = lab(db, ['eval', '--model', policy, '--prompts', prompts, '--reward', tmp.file('nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/reward: .*nowhere: no such folder/);

    r = lab(db, ['eval', '--prompts', prompts, '--reward', reward]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/either --run ID or --model DIR/);

    const bad = tmp.file('bad.jsonl');
    fs.writeFileSync(bad, '{"prompt":"ok"}\n{"text":"no prompt here"}\n');
    r = lab(db, [...base, '--prompts', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl line 2: field "prompt": expected a string/);

    // a prompt longer than the tiny model's 128-token context
    const long = tmp.file('long.jsonl');
    fs.writeFileSync(long, `{"prompt":"short"}\n${JSON.stringify({ prompt: 'word '.repeat(200) })}\n`);
    r = lab(db, [...base, '--prompts', long, '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as EvalOut).error).toMatch(/long\.jsonl line 2: the prompt is \d+ tokens, but the model's context is 128/);

    // a folder without a score head is not a scorer
    r = lab(db, ['eval', '--model', policy, '--prompts', prompts, '--reward', headless, '--max-new-tokens', '2', '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as EvalOut).error).toMatch(/score/);
  });
});
