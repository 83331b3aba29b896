/**
 * Pair tokenization and sequence batches as the spec and TRL define them: EOS appended, the prompt/response seam
 * by TRL's build_tokenized_answer (checked against a transcription of it over an independent GPT-2 BPE), truncation
 * keeping the start, dropped pairs counted, prompt and padding masked out of the log-prob sum.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode as gpt2Encode } from 'gpt-3-encoder';
import { loadTokenizer, type LabTokenizer } from '../../../src-main/engine/llm/tokenizer';
import { hhMessages, resolvePromptFormat, tokenizePair, tokenizeSequence } from '../../../src-main/engine/llm/pair-tokens';
import { packSequences, type TokenizedSequence } from '../../../src-main/engine/llm/sequence-batch';
import { preparePairs, isKept } from '../../../src-main/engine/llm/prepare-data';
import { loadPreferenceFile } from '../../../src-main/engine/llm/data';
import { writeGpt2Tokenizer, writeTinyByteTokenizer } from '../../support/tokenizers';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-pair-tokens-');
afterAll(() => tmp.cleanup());
const HH = path.resolve('test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const EOS = 50256;

let gpt2Dir: string;
let gpt2: LabTokenizer;
beforeAll(async () => {
  gpt2Dir = tmp.file('gpt2');
  fs.mkdirSync(gpt2Dir);
  writeGpt2Tokenizer(gpt2Dir);
  gpt2 = await loadTokenizer(gpt2Dir);
});

/** TRL's DPOTrainer.build_tokenized_answer, transcribed: `None` where TRL raises. */
function trlBuildTokenizedAnswer(encode: (s: string) => number[], prompt: string, answer: string): { prompt: number[]; answer: number[] } | null {
  const full = encode(prompt + answer);
  const promptIds = encode(prompt);
  // len(full) != len(prompt_ids + full[len(prompt_ids):]) only when full is the shorter
  if (full.length < promptIds.length) return null;
  let start = promptIds.length;
  if (promptIds.some((id, i) => full[i] !== id)) start -= 1;
  return { prompt: full.slice(0, start), answer: full.slice(start) };
}

const asSeq = (r: TokenizedSequence | string): TokenizedSequence => {
  if (typeof r === 'string') throw new Error(`dropped: ${r}`);
  return r;
};

describe('one side of a pair (tokenizeSequence)', () => {
  it('appends EOS and counts it in the response', () => {
    const s = asSeq(tokenizeSequence(gpt2, '\n\nHuman: Hi\n\nAssistant:', ' Hello there.', 1024));
    const prompt = gpt2Encode('\n\nHuman: Hi\n\nAssistant:');
    const response = gpt2Encode(' Hello there.');
    expect(s.ids).toEqual([...prompt, ...response, EOS]);
    expect(s.promptLen).toBe(prompt.length);
    expect(s.responseLen).toBe(response.length + 1);
  });

  it('at a seam BPE merges across, backs up exactly one token as TRL does (not to the longest common prefix)', () => {
    // "Say inte" → Say| int|e, "Say internationalization" → Say| international|ization: the merge reaches two tokens back
    expect(gpt2Encode('Say inte')).toHaveLength(3);
    const full = gpt2Encode('Say internationalization');
    expect(full).toHaveLength(3);
    const s = asSeq(tokenizeSequence(gpt2, 'Say inte', 'rnationalization', 1024));
    expect(s.ids).toEqual([...full, EOS]);
    expect(s.promptLen).toBe(2);
    expect(s.responseLen).toBe(2);
  });

  it('drops a side whose prompt+response has fewer tokens than the prompt (where TRL raises)', () => {
    expect(trlBuildTokenizedAnswer(gpt2Encode, 'Say internationa', 'lization')).toBeNull();
    expect(tokenizeSequence(gpt2, 'Say internationa', 'lization', 1024)).toMatch(/merges into the prompt's tokens/);
  });

  it("matches TRL's rule on real HH dialogues cut at the turn and inside words", async () => {
    const data = await loadPreferenceFile(HH);
    let seams = 0;
    let merged = 0;
    let beyondOne = 0;
    for (const [n, p] of data.pairs.slice(0, 60).entries()) {
      const text = p.prompt + p.chosen;
      // the real seam, and cuts inside the response's words at offsets that vary by pair
      const cuts = [p.prompt.length, ...[3, 7, 12, 20].map((d) => Math.min(text.length - 1, p.prompt.length + d + (n % 5)))];
      for (const cut of cuts) {
        const [prompt, response] = [text.slice(0, cut), text.slice(cut)];
        const ref = trlBuildTokenizedAnswer(gpt2Encode, prompt, response);
        const got = tokenizeSequence(gpt2, prompt, response, 100_000);
        seams++;
        if (ref === null) {
          expect(typeof got).toBe('string');
          continue;
        }
        const s = asSeq(got);
        expect(s.ids).toEqual([...ref.prompt, ...ref.answer, EOS]);
        expect(s.promptLen).toBe(ref.prompt.length);
        const promptIds = gpt2Encode(prompt);
        if (ref.prompt.length !== promptIds.length) merged++;
        let lcp = 0;
        while (lcp < promptIds.length && promptIds[lcp] === s.ids[lcp]) lcp++;
        if (lcp < ref.prompt.length) beyondOne++;
      }
    }
    expect(seams).toBe(300);
    // the cuts must exercise the seam rule, including merges that reach further back than one token
    expect(merged).toBeGreaterThan(20);
    expect(beyondOne).toBeGreaterThan(0);
  });

  it('truncates to maxLength keeping the start; EOS goes first', () => {
    const prompt = 'The quick brown fox';
    const response = ' jumps over the lazy dog again and again';
    const full = [...gpt2Encode(prompt + response), EOS];
    const p = gpt2Encode(prompt).length;
    for (const maxLength of [p + 1, p + 3, full.length - 1]) {
      const s = asSeq(tokenizeSequence(gpt2, prompt, response, maxLength));
      expect(s.ids).toEqual(full.slice(0, maxLength));
      expect(s.promptLen).toBe(p);
      expect(s.responseLen).toBe(maxLength - p);
      expect(s.ids.at(-1)).not.toBe(EOS);
    }
    expect(asSeq(tokenizeSequence(gpt2, prompt, response, full.length)).ids.at(-1)).toBe(EOS);
  });

  it('drops a side whose prompt alone fills maxLength, and keeps one with a single response token left', () => {
    const prompt = 'The quick brown fox';
    const p = gpt2Encode(prompt).length;
    expect(tokenizeSequence(gpt2, prompt, ' jumps', p)).toBe(`the prompt alone fills maxLength ${p}`);
    expect(tokenizeSequence(gpt2, prompt, ' jumps', p - 1)).toBe(`the prompt alone fills maxLength ${p - 1}`);
    const s = asSeq(tokenizeSequence(gpt2, prompt, ' jumps', p + 1));
    expect(s).toEqual({ ids: gpt2Encode(prompt + ' jumps').slice(0, p + 1), promptLen: p, responseLen: 1 });
  });

  it('puts BOS first when the tokenizer asks for it (add_bos_token), as part of the prompt', async () => {
    const dir = tmp.file('bos');
    fs.mkdirSync(dir);
    const { eosId } = writeTinyByteTokenizer(dir);
    const file = path.join(dir, 'tokenizer.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { added_tokens: Record<string, unknown>[] };
    json.added_tokens.push({ ...json.added_tokens[0], id: eosId + 1, content: '<s>' });
    fs.writeFileSync(file, JSON.stringify(json));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '<|eos|>', add_bos_token: true }));
    const tok = await loadTokenizer(dir);
    const s = asSeq(tokenizeSequence(tok, 'hi', ' there', 64));
    expect(s.ids).toEqual([eosId + 1, ...tok.encode('hi there'), eosId]);
    expect(s.promptLen).toBe(1 + tok.encode('hi').length);
  });
});

describe('pairs (tokenizePair) and prompt formats', () => {
  const CHATML =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  let chat: LabTokenizer;
  beforeAll(async () => {
    const dir = tmp.file('chatml');
    fs.mkdirSync(dir);
    writeTinyByteTokenizer(dir, { chatTemplate: CHATML });
    chat = await loadTokenizer(dir);
  });

  it('raw format: both sides share the prompt tokens; EOS ends both', () => {
    const t = tokenizePair(gpt2, { prompt: '\n\nHuman: 2+2?\n\nAssistant:', chosen: ' 4.', rejected: ' 5, surely.' }, { maxLength: 512, dataFormat: 'hh' });
    expect(t.promptFormat).toBe('raw');
    if (t.dropped !== null) throw new Error(t.dropped);
    expect(t.chosen.ids.slice(0, t.chosen.promptLen)).toEqual(t.rejected.ids.slice(0, t.rejected.promptLen));
    expect(t.chosen.ids.slice(t.chosen.promptLen)).toEqual([...gpt2Encode(' 4.'), EOS]);
    expect(t.rejected.ids.slice(t.rejected.promptLen)).toEqual([...gpt2Encode(' 5, surely.'), EOS]);
  });

  it("drops the pair when either side's prompt fills maxLength, saying why", () => {
    const prompt = 'word '.repeat(40);
    const t = tokenizePair(gpt2, { prompt, chosen: 'a', rejected: 'b' }, { maxLength: 20, dataFormat: 'generic' });
    expect(t).toEqual({ promptFormat: 'raw', dropped: 'the prompt alone fills maxLength 20' });
  });

  it('chat-template format: HH turns become messages, the open Assistant turn is the generation prompt, responses lose leading space', () => {
    const prompt = '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant:';
    expect(hhMessages(prompt)).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ]);
    const t = tokenizePair(chat, { prompt, chosen: ' Fine, thanks.', rejected: ' Go away.' }, { maxLength: 512, dataFormat: 'hh' });
    expect(t.promptFormat).toBe('chat-template');
    if (t.dropped !== null) throw new Error(t.dropped);
    const rendered =
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n';
    expect(chat.decode(t.chosen.ids.slice(0, t.chosen.promptLen))).toBe(rendered);
    expect(chat.decode(t.chosen.ids)).toBe(rendered + 'Fine, thanks.<|eos|>');
    expect(chat.decode(t.rejected.ids.slice(t.rejected.promptLen))).toBe('Go away.<|eos|>');
  });

  it('a text without HH turns is one user message; PKU-SafeRLHF keeps its own format under auto', () => {
    expect(hhMessages('just a question')).toEqual([{ role: 'user', content: 'just a question' }]);
    expect(resolvePromptFormat(chat, 'auto', 'hh')).toBe('chat-template');
    expect(resolvePromptFormat(chat, 'auto', 'saferlhf')).toBe('raw');
    expect(resolvePromptFormat(chat, 'chat-template', 'saferlhf')).toBe('chat-template');
    expect(resolvePromptFormat(gpt2, 'auto', 'hh')).toBe('raw');
    expect(() => resolvePromptFormat(gpt2, 'chat-template', 'hh')).toThrow(/the model has no chat_template/);
    const t = tokenizePair(
      chat,
      { prompt: 'BEGINNING OF CONVERSATION: USER: Is it safe? ASSISTANT:', chosen: ' Yes.', rejected: ' No.' },
      { maxLength: 256, promptFormat: 'chat-template', dataFormat: 'saferlhf' },
    );
    if (t.dropped !== null) throw new Error(t.dropped);
    expect(chat.decode(t.chosen.ids.slice(0, t.chosen.promptLen))).toBe('<|im_start|>user\nIs it safe?<|im_end|>\n<|im_start|>assistant\n');
  });
});

describe('preparePairs on the HH fixture: dropped pairs are counted, kept pairs fit maxLength', () => {
  it('counts the pairs whose prompt fills maxLength and keeps file order', async () => {
    const maxLength = 48;
    const prepared = await preparePairs({ model: gpt2Dir, data: HH, format: 'auto', preference: 'better', promptFormat: 'auto', maxLength });
    expect(prepared.items).toHaveLength(199);
    expect(prepared.items.map((t) => t.index)).toEqual(Array.from({ length: 199 }, (_, i) => i));
    const dropped = prepared.items.filter((t) => !isKept(t));
    const expectedDropped = prepared.data.pairs.filter((p) => {
      const ids = gpt2Encode(p.prompt);
      // TRL's seam can move the prompt's end back one token; HH's " Assistant:" seam never merges with a response
      return ids.length >= maxLength;
    });
    expect(dropped.map((t) => t.pair.line)).toEqual(expectedDropped.map((p) => p.line));
    expect(dropped.length).toBeGreaterThan(10);
    expect(dropped.length).toBeLessThan(199);
    for (const t of prepared.items) {
      if (!isKept(t)) continue;
      for (const s of [t.chosen, t.rejected]) {
        expect(s.ids.length).toBeLessThanOrEqual(maxLength);
        expect(s.responseLen).toBeGreaterThan(0);
        expect(s.promptLen + s.responseLen).toBe(s.ids.length);
      }
    }
    const withMax = await preparePairs({ model: gpt2Dir, data: HH, format: 'auto', preference: 'better', promptFormat: 'auto', maxLength, maxPairs: 5 });
    expect(withMax.items).toHaveLength(5);
  });
});

describe('sequence batches (packSequences)', () => {
  const a: TokenizedSequence = { ids: [10, 11, 12, 13, 14], promptLen: 2, responseLen: 3 };
  const b: TokenizedSequence = { ids: [20, 21, 22], promptLen: 1, responseLen: 2 };
  const c: TokenizedSequence = { ids: [30, 31], promptLen: 0, responseLen: 2 };

  it('right-pads ids, masks padding out of attention, and gives each position its next token', () => {
    const batch = packSequences([a, b, c], 0);
    expect(batch.rows).toBe(3);
    expect(batch.length).toBe(5);
    expect(batch.tokens).toBe(10);
    expect([...batch.ids]).toEqual([10, 11, 12, 13, 14, 20, 21, 22, 0, 0, 30, 31, 0, 0, 0]);
    expect([...batch.attention]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0]);
    expect([...batch.next]).toEqual([11, 12, 13, 14, 0, 21, 22, 0, 0, 0, 31, 0, 0, 0, 0]);
  });

  it('marks only positions whose next token is a response token: not the prompt, not padding, never the last column', () => {
    const batch = packSequences([a, b, c], 0);
    // a: response tokens at 2..4 are predicted from positions 1..3; b: 1..2 from 0..1; c: token 0 has no predictor
    expect([...batch.target]).toEqual([0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    // the marked positions sum exactly the response tokens that can be predicted
    const perRow = [0, 1, 2].map((r) => batch.target.slice(r * 5, r * 5 + 5).reduce((s, x) => s + x, 0));
    expect(perRow).toEqual([3, 2, 1]);
  });

  it('a truncated sequence (EOS cut off) still marks its kept response tokens', () => {
    const s = asSeq(tokenizeSequence(gpt2, 'The quick brown fox', ' jumps over the lazy dog', gpt2Encode('The quick brown fox').length + 2));
    const batch = packSequences([s], EOS);
    expect([...batch.target]).toEqual(s.ids.map((_, t) => (t >= s.promptLen - 1 && t < s.ids.length - 1 ? 1 : 0)));
    expect([...batch.ids]).not.toContain(EOS);
  });
});
