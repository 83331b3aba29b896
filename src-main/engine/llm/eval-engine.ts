import fs from 'node:fs';
import path from 'node:path';
import { generate } from './generate';
import { loadScorer, scoreTexts } from './scorer';
import { loadTokenizer } from './tokenizer';
import type { EvalEngine } from './evaluate';

/**
 * Evaluation's generation and scoring: the lab's KV-cache generator and its scalar-head scorers. A scorer folder
 * with its own tokenizer.json reads texts with it; otherwise it shares the policy's vocabulary. Scores are read at
 * an appended EOS when the scorer was trained that way (its dpo_lab_scorer.json says so).
 */
export const evalEngine: EvalEngine = {
  generate: (model, tokenizer, prompts, opts) => {
    const out = generate(model, tokenizer, prompts, opts);
    return { texts: out.texts, newTokens: out.newTokens, seconds: out.seconds };
  },
  async openScorer(dir, fallbackTokenizer) {
    const scorer = await loadScorer(dir);
    try {
      const tok = fs.existsSync(path.join(dir, 'tokenizer.json')) ? await loadTokenizer(dir) : fallbackTokenizer;
      return {
        score: (texts) => scoreTexts(scorer, tok, texts, { appendEos: scorer.meta?.appendEos ?? false }),
        dispose: () => scorer.dispose(),
      };
    } catch (err) {
      scorer.dispose();
      throw err;
    }
  },
};
