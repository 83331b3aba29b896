import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A model's tokenizer as the lab uses it: tokenizer.json through @huggingface/tokenizers, chat templates through @huggingface/jinja. */
export interface LabTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  eosTokenId: number;
  eosToken: string | null;
  bosTokenId: number | null;
  padTokenId: number;
  vocabSize: number;
  chatTemplate: string | null;
  /** tokenizer_config.json's add_bos_token (Llama-style tokenizers): BOS goes before every prompt */
  addBos: boolean;
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
}

type TokenConfigValue = string | { content?: string } | null | undefined;
const tokenText = (v: TokenConfigValue): string | null => (typeof v === 'string' ? v : (v?.content ?? null));

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/**
 * Loads `tokenizer.json` (+ `tokenizer_config.json` when present) from a model folder. The EOS token comes from
 * tokenizer_config.json, else config.json's eos_token_id; padding uses the pad token, else EOS (as TRL does).
 */
export async function loadTokenizer(dir: string): Promise<LabTokenizer> {
  const file = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (the lab reads the fast-tokenizer file tokenizer.json)`);
  const json = readJson(file);
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const cfg = fs.existsSync(cfgFile) ? readJson(cfgFile) : {};
  const modelCfgFile = path.join(dir, 'config.json');
  const modelCfg = fs.existsSync(modelCfgFile) ? readJson(modelCfgFile) : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, cfg);
  } catch (err) {
    throw new Error(`${file}: not a tokenizer the lab can read (${(err as Error).message})`, { cause: err });
  }
  const idOf = (t: string | null) => (t === null ? undefined : tok.token_to_id(t));
  const eosToken = tokenText(cfg.eos_token as TokenConfigValue);
  const firstId = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : typeof v === 'number' ? v : undefined);
  const eosTokenId = idOf(eosToken) ?? firstId(modelCfg.eos_token_id);
  if (eosTokenId === undefined) throw new Error(`${cfgFile}: no eos_token (nor eos_token_id in config.json): the lab appends EOS to every response`);
  const bosToken = tokenText(cfg.bos_token as TokenConfigValue);
  const bosTokenId = idOf(bosToken) ?? firstId(modelCfg.bos_token_id) ?? null;
  const padTokenId = idOf(tokenText(cfg.pad_token as TokenConfigValue)) ?? eosTokenId;
  const chatTemplate = typeof cfg.chat_template === 'string' ? cfg.chat_template : null;
  let template: Template | null = null;
  return {
    encode: (text, o = {}) => tok.encode(text, { add_special_tokens: o.addSpecialTokens ?? false }).ids,
    // @huggingface/tokenizers throws on an empty list; a response that is EOS alone decodes to nothing
    decode: (ids, o = {}) => (ids.length ? tok.decode(ids, { skip_special_tokens: o.skipSpecialTokens ?? false }) : ''),
    eosTokenId,
    eosToken: eosToken ?? tok.id_to_token(eosTokenId) ?? null,
    bosTokenId,
    padTokenId,
    vocabSize: tok.get_vocab(true).size,
    chatTemplate,
    addBos: cfg.add_bos_token === true && bosTokenId !== null,
    applyChatTemplate(messages, o = {}) {
      if (!chatTemplate) throw new Error(`${cfgFile}: the model has no chat_template`);
      try {
        template ??= new Template(chatTemplate);
        return template.render({
          messages,
          add_generation_prompt: o.addGenerationPrompt ?? false,
          bos_token: bosToken ?? '',
          eos_token: eosToken ?? '',
        });
      } catch (err) {
        throw new Error(`${cfgFile}: chat_template failed to render (${(err as Error).message})`, { cause: err });
      }
    },
  };
}
