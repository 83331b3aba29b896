/**
 * `lab score` as a real process: {"scores":[...]} for {prompt, response} rows, in order, equal to the float64
 * reference of prompt + response tokenized as it stands and read at its last token; bad inputs exit 2 naming
 * what is wrong (a folder without a score head, an empty file, a row longer than the context, a missing field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../unit/tmp';
import { writeTinyModel, type WrittenTensor } from '../support/tiny-models';
import { writeTinyScorer } from '../support/tiny-scorers';
import { referenceHiddenStates } from '../support/llm-reference';
import { loadTokenizer } from '../../src-main/engine/llm/tokenizer';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const scorerDir = tmp.file('tiny-rm');
let written: { weights: Record<string, WrittenTensor>; config: Record<string, unknown> };

beforeAll(() => {
  written = writeTinyScorer(scorerDir, { arch: 'llama', seed: 41, kvHeads: 2, maxPositions: 96 });
});

function lab(args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', tmp.file('lab.db'), '--backend', 'wasm', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function jsonl(name: string, rows: unknown[]): string {
  const file = tmp.file(name);
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

const ROWS = [
  { prompt: 'BEGINNING OF CONVERSATION: USER: hi ASSISTANT:', response: ' hello there' },
  { prompt: 'Q: the sky? A:', response: ' blue' },
  { prompt: 'Tell me a story.', response: ' Once upon a time the cat sat on the mat.' },
];

describe('lab score', () => {
  it('prints {"scores": [...]} in row order, matching the float64 reference at the last token (no EOS added)', async () => {
    const r = lab(['score', '--scorer', scorerDir, '--data', jsonl('rows.jsonl', ROWS), '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['scores']);
    const scores = out.scores as number[];
    const tok = await loadTokenizer(scorerDir);
    const w = written.weights['score.weight'].values;
    expect(scores).toHaveLength(ROWS.length);
    ROWS.forEach((row, i) => {
      const h = referenceHiddenStates(written, tok.encode(row.prompt + row.response));
      const want = h[h.length - 1].reduce((s, x, k) => s + x * w[k], 0);
      expect(Math.abs(scores[i] - want), `row ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
    });
  });

  it('bad inputs exit 2 and say what is wrong', () => {
    const lm = tmp.file('plain-lm');
    writeTinyModel(lm, { arch: 'gpt2', seed: 42 });
    const rows = jsonl('ok.jsonl', ROWS);
    const noHead = lab(['score', '--scorer', lm, '--data', rows, '--json']);
    expect(noHead.code).toBe(2);
    expect(noHead.stdout + noHead.stderr).toMatch(/no score head \(tensor score\.weight is missing; config\.json architectures: GPT2LMHeadModel\)/);

    const empty = tmp.file('empty.jsonl');
    fs.writeFileSync(empty, '');
    const e = lab(['score', '--scorer', scorerDir, '--data', empty]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/empty\.jsonl: no rows to score/);

    const long = jsonl('long.jsonl', [ROWS[0], { prompt: 'word '.repeat(60), response: 'end' }]);
    const l = lab(['score', '--scorer', scorerDir, '--data', long]);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/long\.jsonl:2: prompt \+ response has \d+ tokens; the scorer's context is 96/);

    const missing = jsonl('missing.jsonl', [ROWS[0], { prompt: 'x' }]);
    const m = lab(['score', '--scorer', scorerDir, '--data', missing]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/missing\.jsonl:2: missing field "response"/);
  });
});
