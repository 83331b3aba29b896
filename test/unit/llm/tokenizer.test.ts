/**
 * The lab's tokenizer (tokenizer.json through @huggingface/tokenizers, chat templates through @huggingface/jinja)
 * against an independent GPT-2 BPE (the gpt-3-encoder package), on real files written into a temp folder.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode as gpt2Encode, decode as gpt2Decode } from 'gpt-3-encoder';
import { loadTokenizer, type LabTokenizer } from '../../../src-main/engine/llm/tokenizer';
import { writeGpt2Tokenizer, writeTinyByteTokenizer } from '../../support/tokenizers';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-tokenizer-');
afterAll(() => tmp.cleanup());

function folder(name: string): string {
  const dir = tmp.file(name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
const writeJson = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

const VARIED_TEXTS = [
  'Hello world',
  '  two leading spaces, three trailing   ',
  "don't I'll we've you're she'd it's 'S 'T 'RE",
  'numbers 12345 3.14159 1,000,000 and 2026-12-02',
  'line one\nline two\n\n\ttabbed\r\nCRLF\n',
  'naïve café — “curly quotes” and ‘single’',
  '日本語のテキスト, 中文, 한국어, Ελληνικά, русский',
  'emoji 🤖👍🏽 and a family 👨‍👩‍👧 (ZWJ)',
  'nbsp\u00a0here and a zero\u0000byte',
  '\n\nHuman: What is 2+2?\n\nAssistant: 4.',
  'x'.repeat(300),
  '',
];

describe('GPT-2 tokenizer.json through loadTokenizer', () => {
  let tok: LabTokenizer;
  beforeAll(async () => {
    const dir = folder('gpt2');
    writeGpt2Tokenizer(dir);
    tok = await loadTokenizer(dir);
  });

  it('gives the same ids as gpt-3-encoder on varied text, and decodes back to the text', () => {
    for (const text of VARIED_TEXTS) {
      const ids = tok.encode(text);
      expect(ids, JSON.stringify(text)).toEqual(gpt2Encode(text));
      expect(tok.decode(ids)).toBe(text);
      expect(gpt2Decode(ids)).toBe(text);
    }
  });

  it('gives the same ids as gpt-3-encoder on real HH-RLHF dialogues', () => {
    const lines = zlib
      .gunzipSync(fs.readFileSync(path.resolve('test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz')))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 40);
    let tokens = 0;
    for (const line of lines) {
      const { chosen } = JSON.parse(line) as { chosen: string };
      const ids = tok.encode(chosen);
      expect(ids).toEqual(gpt2Encode(chosen));
      expect(tok.decode(ids)).toBe(chosen);
      tokens += ids.length;
    }
    expect(tokens).toBeGreaterThan(1000);
  });

  it('reads EOS, BOS and padding from tokenizer_config.json (pad falls back to EOS, as TRL does)', () => {
    expect(tok.eosTokenId).toBe(50256);
    expect(tok.eosToken).toBe('<|endoftext|>');
    expect(tok.bosTokenId).toBe(50256);
    expect(tok.padTokenId).toBe(50256);
    expect(tok.vocabSize).toBe(50257);
    // GPT-2 puts no BOS before a prompt (its config has no add_bos_token)
    expect(tok.addBos).toBe(false);
    expect(tok.chatTemplate).toBeNull();
  });

  it('treats <|endoftext|> in text as the special token, and skips it on request when decoding', () => {
    const ids = tok.encode('<|endoftext|>Hello');
    expect(ids).toEqual([50256, ...gpt2Encode('Hello')]);
    expect(tok.decode(ids)).toBe('<|endoftext|>Hello');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('Hello');
    // a generation that stops at once (EOS alone) decodes to an empty response, not an error
    expect(tok.decode([])).toBe('');
    expect(tok.decode([50256], { skipSpecialTokens: true })).toBe('');
    // GPT-2's post-processor adds nothing, so special tokens on or off give the same ids
    expect(tok.encode('Hello', { addSpecialTokens: true })).toEqual(gpt2Encode('Hello'));
  });

  it('refuses a chat template it does not have', () => {
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/tokenizer_config\.json: the model has no chat_template/);
  });
});

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Llama 2's chat template as Meta's tokenizer_config.json ships it (system prompt folded into the first turn). */
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}" +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

describe('chat templates through @huggingface/jinja', () => {
  it('renders a ChatML template with and without the generation prompt', async () => {
    const dir = folder('chatml');
    writeTinyByteTokenizer(dir, { chatTemplate: CHATML });
    const tok = await loadTokenizer(dir);
    expect(tok.chatTemplate).toBe(CHATML);
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Hi there' },
    ];
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(tok.applyChatTemplate(messages)).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n');
  });

  it("passes bos_token and eos_token to the template (Llama 2's), and its raise_exception names the config file", async () => {
    const dir = folder('llama2');
    writeTinyByteTokenizer(dir);
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    writeJson(cfgFile, { ...readJson(cfgFile), bos_token: '<s>', eos_token: { content: '<|eos|>' }, chat_template: LLAMA2 });
    const tok = await loadTokenizer(dir);
    const out = tok.applyChatTemplate([
      { role: 'system', content: 'Sys' },
      { role: 'user', content: ' Q1 ' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ]);
    expect(out).toBe(
      // strip() applies to the joined content, so the space before Q1 stays (as in Python)
      '<s>[INST] <<SYS>>\nSys\n<</SYS>>\n\n Q1 [/INST] A1 <|eos|><s>[INST] Q2 [/INST]',
    );
    expect(() =>
      tok.applyChatTemplate([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    ).toThrow(/tokenizer_config\.json: chat_template failed to render \(Conversation roles must alternate/);
  });

  it('reports a template that does not parse, naming the config file', async () => {
    const dir = folder('bad-template');
    writeTinyByteTokenizer(dir, { chatTemplate: '{% for m in messages %}{{ m.content }}' });
    const tok = await loadTokenizer(dir);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/tokenizer_config\.json: chat_template failed to render/);
  });
});

describe('special tokens and bad tokenizer folders', () => {
  /** The tiny byte tokenizer with a BOS token added, configured as Llama's (add_bos_token). */
  function llamaStyle(name: string, cfg: Record<string, unknown>): string {
    const dir = folder(name);
    const { eosId } = writeTinyByteTokenizer(dir);
    const file = path.join(dir, 'tokenizer.json');
    const json = readJson(file) as { added_tokens: Record<string, unknown>[] };
    json.added_tokens.push({ ...json.added_tokens[0], id: eosId + 1, content: '<s>' });
    writeJson(file, json);
    writeJson(path.join(dir, 'tokenizer_config.json'), cfg);
    return dir;
  }

  it('sets addBos from add_bos_token when the BOS token exists, and keeps a separate pad token', async () => {
    const dir = llamaStyle('llama-bos', { bos_token: '<s>', eos_token: '<|eos|>', pad_token: '<s>', add_bos_token: true });
    const tok = await loadTokenizer(dir);
    expect(tok.bosTokenId).toBe(273);
    expect(tok.eosTokenId).toBe(272);
    expect(tok.padTokenId).toBe(273);
    expect(tok.addBos).toBe(true);
    expect(tok.vocabSize).toBe(274);
    expect(tok.encode('<s>hi')[0]).toBe(273);
  });

  it('takes EOS and BOS ids from config.json when tokenizer_config.json names none', async () => {
    const dir = llamaStyle('ids-from-config', { add_bos_token: true });
    writeJson(path.join(dir, 'config.json'), { eos_token_id: [272, 5], bos_token_id: 273 });
    const tok = await loadTokenizer(dir);
    expect(tok.eosTokenId).toBe(272);
    expect(tok.eosToken).toBe('<|eos|>');
    expect(tok.bosTokenId).toBe(273);
    expect(tok.padTokenId).toBe(272);
    expect(tok.addBos).toBe(true);
  });

  it('refuses a folder without EOS, without tokenizer.json, or with broken JSON, naming the file', async () => {
    const noEos = llamaStyle('no-eos', {});
    await expect(loadTokenizer(noEos)).rejects.toThrow(/tokenizer_config\.json: no eos_token/);

    const empty = folder('empty');
    await expect(loadTokenizer(empty)).rejects.toThrow(`${path.join(empty, 'tokenizer.json')}: missing`);

    const broken = folder('broken');
    writeTinyByteTokenizer(broken);
    fs.writeFileSync(path.join(broken, 'tokenizer_config.json'), '{"eos_token": ');
    await expect(loadTokenizer(broken)).rejects.toThrow(`${path.join(broken, 'tokenizer_config.json')}: not valid JSON`);

    const notTok = folder('not-a-tokenizer');
    writeJson(path.join(notTok, 'tokenizer.json'), { model: { type: 'Nonsense' } });
    writeJson(path.join(notTok, 'tokenizer_config.json'), { eos_token: '</s>' });
    await expect(loadTokenizer(notTok)).rejects.toThrow(/tokenizer\.json: not a tokenizer the lab can read/);
  });

  it('reads a tokenizer.json that starts with a byte-order mark', async () => {
    const dir = folder('bom');
    writeTinyByteTokenizer(dir);
    const file = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(file, '\uFEFF' + fs.readFileSync(file, 'utf8'));
    const tok = await loadTokenizer(dir);
    expect(tok.decode(tok.encode('the cat'))).toBe('the cat');
  });
});
