/**
 * `dpo-lab train-scorer` end to end: the CLI asks the lab, the lab trains in a worker process, the outcome lands in
 * the SQLite store and the folder written is a scorer `lab score` can load. A reward model on a generated preference
 * file and a cost model on a PKU-SafeRLHF-like file both beat chance on held-out pairs; bad inputs are refused
 * before any worker starts, naming the field and the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-main';
import { tempDir } from './tmp';
import { writeTinyModel } from '../support/tiny-models';
import { Rng } from '../../src-main/engine/synthetic/rng';
import { LabStore } from '../../src-main/store';

const tmp = tempDir('dpo-lab-cli-scorer-');
afterAll(() => tmp.cleanup());

const TOPICS = ['rivers', 'bread', 'the moon', 'cats', 'music', 'trains', 'gardens', 'rain', 'chess', 'paper'];
const FILLER = ['well', 'so', 'I think', 'maybe', 'here is', 'in short'];
const GOOD = ['great', 'kind', 'clear', 'useful'];
const BAD = ['rude', 'wrong', 'dull', 'vague'];
const UNSAFE = ['poison', 'weapon', 'steal'];

const model = tmp.file('base');
writeTinyModel(model, { arch: 'gpt2', seed: 31, hidden: 16, heads: 2, layers: 2 });
const db = tmp.file('lab.sqlite');
const SLOW = 300_000;

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Generic prompt/chosen/rejected: the chosen response ends in a "good" word. */
function rewardFile(n: number): string {
  const rng = new Rng(1, 'cli-reward');
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  const file = tmp.file('reward.jsonl');
  fs.writeFileSync(
    file,
    jsonl(
      Array.from({ length: n }, () => {
        const a = pick(FILLER);
        return { prompt: `Q: ${pick(TOPICS)}? A:`, chosen: ` ${a} ${pick(GOOD)}`, rejected: ` ${a} ${pick(BAD)}` };
      }),
    ),
  );
  return file;
}

/** PKU-SafeRLHF rows: one safe and one unsafe response, in either order, with both safety labels. */
function safetyFile(n: number): string {
  const rng = new Rng(2, 'cli-cost');
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  const file = tmp.file('safety.jsonl');
  fs.writeFileSync(
    file,
    jsonl(
      Array.from({ length: n }, () => {
        const a = pick(FILLER);
        const safe = ` ${a} ${pick(GOOD)}`;
        const unsafe = ` ${a} ${pick(UNSAFE)}`;
        const flip = rng.int(2) === 1;
        return {
          prompt: `tell me about ${pick(TOPICS)}`,
          response_0: flip ? unsafe : safe,
          response_1: flip ? safe : unsafe,
          is_response_0_safe: !flip,
          is_response_1_safe: flip,
          better_response_id: rng.int(2),
          safer_response_id: flip ? 1 : 0,
        };
      }),
    ),
  );
  return file;
}

const train = (args: string[]) => runCli(db, ['--json', 'train-scorer', '--model', model, '--steps', '30', '--lr', '0.01', '--eval-fraction', '0.25', ...args]);

describe('lab train-scorer', () => {
  it(
    'trains a reward model in a worker: JSON with the folder and a held-out accuracy well above chance, stored in the lab',
    async () => {
      const out = tmp.file('rm');
      const r = await train(['--kind', 'reward', '--data', rewardFile(120), '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as { out: string; accuracy: number; signAccuracy?: number; evalPairs: number };
      expect(res.out).toBe(out);
      expect(res.evalPairs).toBe(30);
      expect(res.accuracy).toBeGreaterThan(0.8);
      expect(res).not.toHaveProperty('signAccuracy');
      expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(true);
      // the folder is a scorer the lab reads: `lab score` gives one number per row
      const rows = tmp.file('rows.jsonl');
      fs.writeFileSync(
        rows,
        jsonl([
          { prompt: 'Q: cats? A:', response: ' well great' },
          { prompt: 'Q: cats? A:', response: ' well rude' },
        ]),
      );
      const sc = await runCli(db, ['--json', 'score', '--scorer', out, '--data', rows]);
      expect(sc.code, sc.stderr).toBe(0);
      expect((JSON.parse(sc.stdout) as { scores: number[] }).scores).toHaveLength(2);
      const store = LabStore.open(db);
      try {
        const [rec] = store.scorers.list();
        expect(rec).toMatchObject({ kind: 'reward', status: 'done', out, error: null, result: { accuracy: res.accuracy, evalPairs: 30 } });
        expect(rec.log.join('\n')).toMatch(/120 preference pairs from reward\.jsonl[\s\S]*held-out accuracy/);
      } finally {
        store.close();
      }
    },
    SLOW,
  );

  it(
    'trains a cost model on PKU-SafeRLHF-like rows: accuracy and sign accuracy well above chance',
    async () => {
      const out = tmp.file('cm');
      const r = await train(['--kind', 'cost', '--data', safetyFile(120), '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as { out: string; accuracy: number; signAccuracy: number };
      expect(res.out).toBe(out);
      expect(res.accuracy).toBeGreaterThan(0.8);
      expect(res.signAccuracy).toBeGreaterThan(0.8);
      const list = await runCli(db, ['--json', 'scorers']);
      expect(JSON.parse(list.stdout)).toMatchObject([
        { kind: 'cost', out, signAccuracy: res.signAccuracy },
        { kind: 'reward', out: tmp.file('rm') },
      ]);
    },
    SLOW,
  );

  it('bad inputs are refused before a worker starts, naming the field and the file', async () => {
    const generic = rewardFile(6);
    const before = (await runCli(db, ['--json', 'scorers'])).stdout;

    const noLabels = await train(['--kind', 'cost', '--data', generic, '--out', tmp.file('x1')]);
    expect(noLabels.code).toBe(2);
    expect(noLabels.stderr).toContain(`data: ${generic}:1: a cost model needs safety labels for both responses`);

    const busy = tmp.file('busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'keep.txt'), 'x');
    const occupied = await train(['--kind', 'reward', '--data', generic, '--out', busy]);
    expect(occupied.code).toBe(2);
    expect(occupied.stderr).toContain(`out: ${busy} is not empty; choose a new or empty folder for the scorer`);

    const missing = tmp.file('no-such-model');
    const noModel = await runCli(db, ['--json', 'train-scorer', '--kind', 'reward', '--model', missing, '--data', generic, '--out', tmp.file('x2')]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain(`model: ${missing}: no such folder`);
    expect(JSON.parse(noModel.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });

    const noData = await train(['--kind', 'reward', '--data', tmp.file('nope.jsonl'), '--out', tmp.file('x3')]);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toContain(`data: ${tmp.file('nope.jsonl')}: no such file`);

    const kind = await train(['--kind', 'harm', '--data', generic, '--out', tmp.file('x4')]);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('--kind: expected reward or cost, got "harm"');

    const steps = await train(['--kind', 'reward', '--data', generic, '--out', tmp.file('x5'), '--steps', '0']);
    expect(steps.code).toBe(2);
    expect(steps.stderr).toContain('--steps: expected a whole number ≥ 1, got "0"');

    // nothing was queued by a refused request
    expect((await runCli(db, ['--json', 'scorers'])).stdout).toBe(before);
    expect(fs.existsSync(tmp.file('x1'))).toBe(false);
  });
});
