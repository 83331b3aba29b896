/**
 * Scalar-head scorers (scorer.ts) on tiny random `*ForSequenceClassification` folders against the independent
 * float64 forward pass (test/support/llm-reference.ts): the score of each text, read at its last token, in
 * right-padded batches; folders that are not scorers and texts that do not fit are refused with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScorer, scoreSequences, scoreTexts } from '../../../src-main/engine/llm/scorer';
import { loadTokenizer } from '../../../src-main/engine/llm/tokenizer';
import { writeTinyModel, type TinyModelOptions } from '../../support/tiny-models';
import { writeTinyScorer } from '../../support/tiny-scorers';
import { referenceHiddenStates } from '../../support/llm-reference';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-scorer-');
afterAll(() => tmp.cleanup());

const TEXTS = ['Hello there', 'The quick brown fox jumps over the lazy dog.', 'ok', 'BEGINNING OF CONVERSATION: USER: hi ASSISTANT: hello, how can I help?'];

const CASES: [string, TinyModelOptions][] = [
  ['gpt2', { arch: 'gpt2', seed: 21 }],
  ['llama-gqa', { arch: 'llama', seed: 22, heads: 4, kvHeads: 2 }],
  ['qwen2-bf16', { arch: 'qwen2', seed: 23, dtype: 'BF16' }],
];

describe.each(CASES)('scorer %s against the float64 reference', (name, opts) => {
  it('scores every text at its last token, batched with right padding', async () => {
    const dir = tmp.file(name);
    const { weights, config } = writeTinyScorer(dir, opts);
    const scorer = await loadScorer(dir);
    const tok = await loadTokenizer(dir);
    try {
      expect(scorer.architecture).toMatch(/ForSequenceClassification$/);
      const got = scoreTexts(scorer, tok, TEXTS, { batchSize: 3 });
      const w = weights['score.weight'].values;
      const want = TEXTS.map((t) => {
        const h = referenceHiddenStates({ config, weights }, tok.encode(t));
        const last = h[h.length - 1];
        return last.reduce((s, x, i) => s + x * w[i], 0);
      });
      got.forEach((g, i) => expect(Math.abs(g - want[i]), `text ${i}: ${g} vs ${want[i]}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[i]))));
      // one at a time equals batched: padding never leaks into a score
      expect(scoreTexts(scorer, tok, [TEXTS[1]], { batchSize: 1 })[0]).toBeCloseTo(got[1], 4);
      // with EOS appended the score is read one token later
      const withEos = scoreTexts(scorer, tok, [TEXTS[0]], { appendEos: true })[0];
      const h = referenceHiddenStates({ config, weights }, [...tok.encode(TEXTS[0]), tok.eosTokenId]);
      expect(withEos).toBeCloseTo(
        h[h.length - 1].reduce((s, x, i) => s + x * w[i], 0),
        4,
      );
    } finally {
      scorer.dispose();
    }
  });
});

describe('scorer inputs the lab refuses', () => {
  it('a causal LM folder without a score head', async () => {
    const dir = tmp.file('plain-lm');
    writeTinyModel(dir, { arch: 'llama', seed: 3 });
    await expect(loadScorer(dir)).rejects.toThrow(/no score head \(tensor score\.weight is missing; config\.json architectures: LlamaForCausalLM\)/);
  });
  it('a classifier with two labels', async () => {
    const dir = tmp.file('two-labels');
    writeTinyScorer(dir, { arch: 'gpt2', seed: 4, labels: 2 });
    await expect(loadScorer(dir)).rejects.toThrow(/score\.weight has shape \[2,16\]: 2 labels; a reward or cost model has one/);
  });
  it('a text longer than the context, and an empty one', async () => {
    const dir = tmp.file('short-context');
    writeTinyScorer(dir, { arch: 'gpt2', seed: 5, maxPositions: 8 });
    const scorer = await loadScorer(dir);
    const tok = await loadTokenizer(dir);
    try {
      expect(() => scoreTexts(scorer, tok, ['ok', 'this text is much longer than eight tokens'])).toThrow(/text 2 has \d+ tokens; the scorer's context is 8/);
      expect(() => scoreSequences(scorer, [[1, 2], []], { padId: 0 })).toThrow(/text 2 is empty/);
    } finally {
      scorer.dispose();
    }
  });
  it('a folder with no config.json', async () => {
    const dir = tmp.file('empty');
    fs.mkdirSync(dir);
    await expect(loadScorer(dir)).rejects.toThrow(new RegExp(`${path.join(dir, 'config.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: missing`));
  });
});
