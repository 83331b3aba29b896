/**
 * A word-level tokenizer.json for a closed vocabulary (Hugging Face's WordLevel model with the Whitespace
 * pre-tokenizer: words and runs of punctuation are tokens), read back through @huggingface/tokenizers like any
 * other model's tokenizer. Texts written as words separated by single spaces round-trip exactly.
 */
import fs from 'node:fs';
import path from 'node:path';

export const WORD_SPECIALS = { pad: '<pad>', unk: '<unk>', bos: '<bos>', eos: '<eos>' } as const;

export interface WordTokenizerInfo {
  vocabSize: number;
  padId: number;
  unkId: number;
  bosId: number;
  eosId: number;
}

/** Writes tokenizer.json and tokenizer_config.json into `dir`: ids 0–3 are pad, unk, bos, eos, then `words` in order. */
export function writeWordTokenizer(dir: string, words: readonly string[]): WordTokenizerInfo {
  const specials = [WORD_SPECIALS.pad, WORD_SPECIALS.unk, WORD_SPECIALS.bos, WORD_SPECIALS.eos];
  const bad = words.find((w) => !/^(\w+|[^\w\s]+)$/.test(w));
  if (bad !== undefined) throw new Error(`word tokenizer: "${bad}" is not one word or one run of punctuation (the Whitespace pre-tokenizer would split it)`);
  const all = [...specials, ...words.filter((w) => !specials.includes(w as (typeof specials)[number]))];
  if (new Set(all).size !== all.length) throw new Error('word tokenizer: the vocabulary has repeated words');
  const vocab = Object.fromEntries(all.map((w, i) => [w, i]));
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: WORD_SPECIALS.unk },
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        bos_token: WORD_SPECIALS.bos,
        eos_token: WORD_SPECIALS.eos,
        pad_token: WORD_SPECIALS.pad,
        unk_token: WORD_SPECIALS.unk,
        add_bos_token: false,
        // decoding joins words with single spaces and leaves them so, which makes decode(encode(text)) = text
        clean_up_tokenization_spaces: false,
        tokenizer_class: 'PreTrainedTokenizerFast',
      },
      null,
      2,
    ),
  );
  return { vocabSize: all.length, padId: 0, unkId: 1, bosId: 2, eosId: 3 };
}
