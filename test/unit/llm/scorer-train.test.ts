/**
 * Scorer training (scorer-train.ts) on small synthetic preference sets with a rule a scorer can learn: a reward model
 * (Bradley–Terry) and a cost model (safe-rlhf's loss with safety labels) beat chance clearly on held-out pairs, and
 * the folder written loads back with loadScorer and gives the held-out accuracy it reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainScorer, loadScorerPairs } from '../../../src-main/engine/llm/scorer-train';
import { loadScorer, scoreTexts } from '../../../src-main/engine/llm/scorer';
import { loadTokenizer } from '../../../src-main/engine/llm/tokenizer';
import { splitPairs } from '../../../src-main/engine/llm/data/split';
import { Rng } from '../../../src-main/engine/synthetic/rng';
import { writeTinyModel } from '../../support/tiny-models';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-scorer-train-');
afterAll(() => tmp.cleanup());

const TOPICS = ['rivers', 'bread', 'the moon', 'cats', 'music', 'trains', 'gardens', 'rain', 'chess', 'paper'];
const FILLER = ['well', 'so', 'I think', 'maybe', 'here is', 'in short', 'honestly', 'you see'];
const GOOD = ['great', 'kind', 'clear', 'useful'];
const BAD = ['rude', 'wrong', 'dull', 'vague'];
const UNSAFE = ['poison', 'weapon', 'steal'];

/** Chosen responses end in a "good" word, rejected ones in a "bad" word, after varying filler. */
function rewardPairs(n: number, seed: number) {
  const rng = new Rng(seed, 'reward-pairs');
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  return Array.from({ length: n }, () => {
    const prompt = `Q: ${pick(TOPICS)}? A:`;
    const a = pick(FILLER);
    return { prompt, chosen: ` ${a} ${pick(GOOD)}`, rejected: ` ${a} ${pick(BAD)}` };
  });
}

const model = tmp.file('base');
// small and short, so training takes seconds on the pure-JS backend
writeTinyModel(model, { arch: 'gpt2', seed: 31, hidden: 16, heads: 2, layers: 2 });
const SLOW = 300_000;

describe('scorer training', () => {
  it(
    'a reward model learns a held-out preference rule and its folder reloads to the same accuracy',
    async () => {
      const pairs = rewardPairs(120, 1);
      const out = tmp.file('rm');
      const res = await trainScorer({ kind: 'reward', model, out, pairs, evalFraction: 0.25, seed: 3, steps: 30, batchSize: 8, lr: 1e-2 });
      expect(res.evalPairs).toBe(30);
      expect(res.accuracy).toBeGreaterThan(0.85);
      const scorer = await loadScorer(out);
      const tok = await loadTokenizer(out);
      try {
        expect(scorer.architecture).toBe('GPT2ForSequenceClassification');
        expect(scorer.meta).toMatchObject({ kind: 'reward', appendEos: true, evalPairs: 30 });
        // the same held-out split, scored from the written folder
        const held = splitPairs(pairs, 0.25, 3).eval;
        const rc = scoreTexts(
          scorer,
          tok,
          held.map((p) => p.prompt + p.chosen),
          { appendEos: true },
        );
        const rr = scoreTexts(
          scorer,
          tok,
          held.map((p) => p.prompt + p.rejected),
          { appendEos: true },
        );
        expect(rc.filter((c, i) => c > rr[i]).length / held.length).toBeCloseTo(res.accuracy, 6);
      } finally {
        scorer.dispose();
      }
    },
    SLOW,
  );

  it(
    'a cost model learns which responses are unsafe: pair accuracy and sign accuracy well above chance',
    async () => {
      const rng = new Rng(2, 'cost-pairs');
      const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
      const pairs = Array.from({ length: 120 }, () => {
        const a = pick(FILLER);
        return {
          prompt: `Q: ${pick(TOPICS)}? A:`,
          chosen: ` ${a} ${pick(GOOD)}`,
          rejected: ` ${a} ${pick(UNSAFE)}`,
          chosenSafe: true,
          rejectedSafe: false,
        };
      });
      const res = await trainScorer({ kind: 'cost', model, out: tmp.file('cm'), pairs, evalFraction: 0.25, seed: 4, steps: 30, batchSize: 8, lr: 1e-2 });
      expect(res.accuracy).toBeGreaterThan(0.85);
      expect(res.signAccuracy).toBeGreaterThan(0.85);
    },
    SLOW,
  );

  it('bad inputs: a cost model without safety labels, an occupied output folder', async () => {
    const file = tmp.file('generic.jsonl');
    fs.writeFileSync(
      file,
      rewardPairs(3, 5)
        .map((p) => JSON.stringify(p))
        .join('\n'),
    );
    await expect(loadScorerPairs(file, 'cost')).rejects.toThrow(/generic\.jsonl:1: a cost model needs safety labels/);
    await expect(trainScorer({ kind: 'cost', model, out: tmp.file('cm2'), pairs: rewardPairs(4, 6), steps: 1 })).rejects.toThrow(
      /pair 1: a cost model needs safety labels/,
    );
    const busy = tmp.file('busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'x'), '');
    await expect(trainScorer({ kind: 'reward', model, out: busy, pairs: rewardPairs(4, 6), steps: 1 })).rejects.toThrow(/exists and is not an empty folder/);
  });
});
