import type { DataFormat, PreferencePair } from '@shared/llm-data';
import type { ChatMessage, LabTokenizer } from './tokenizer';
import type { TokenizedSequence } from './sequence-batch';

export type PromptFormatOption = 'auto' | 'chat-template' | 'raw';

export type TokenizedPair =
  | { promptFormat: 'raw' | 'chat-template'; dropped: null; chosen: TokenizedSequence; rejected: TokenizedSequence }
  | { promptFormat: 'raw' | 'chat-template'; dropped: string; chosen?: undefined; rejected?: undefined };

/** HH's "\n\nHuman: …\n\nAssistant: …" turns as chat messages (the prompt ends with an open Assistant turn). */
export function hhMessages(prompt: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  const re = /\n\n(Human|Assistant):/g;
  const marks = [...prompt.matchAll(re)];
  marks.forEach((m, i) => {
    const start = m.index + m[0].length;
    const end = i + 1 < marks.length ? marks[i + 1].index : prompt.length;
    const content = prompt.slice(start, end).trim();
    if (content || i + 1 < marks.length) out.push({ role: m[1] === 'Human' ? 'user' : 'assistant', content });
  });
  // the open Assistant turn at the end is what add_generation_prompt writes
  if (out.length && out[out.length - 1].role === 'assistant' && !out[out.length - 1].content) out.pop();
  return out.length ? out : [{ role: 'user', content: prompt.trim() }];
}

function messagesFor(prompt: string, format: DataFormat): ChatMessage[] {
  if (format === 'hh') return hhMessages(prompt);
  if (format === 'saferlhf') {
    const m = /^BEGINNING OF CONVERSATION: USER: ([\s\S]*) ASSISTANT:$/.exec(prompt);
    return [{ role: 'user', content: m ? m[1] : prompt }];
  }
  return [{ role: 'user', content: prompt }];
}

/** Which prompt format a run uses: the model's chat template when it has one (auto), else the data's own text. */
export function resolvePromptFormat(tok: LabTokenizer, option: PromptFormatOption, format: DataFormat): 'raw' | 'chat-template' {
  if (option === 'raw') return 'raw';
  if (option === 'chat-template') {
    if (!tok.chatTemplate) throw new Error('promptFormat chat-template: the model has no chat_template in tokenizer_config.json');
    return 'chat-template';
  }
  // PKU-SafeRLHF carries its own conversation format; the spec trains on it as written.
  return tok.chatTemplate && format !== 'saferlhf' ? 'chat-template' : 'raw';
}

/**
 * Tokenizes one side of a pair as the spec (and TRL's build_tokenized_answer) does: the prompt and prompt+response
 * are tokenized; the response is what follows the prompt's tokens in the full sequence. When BPE merges across the
 * seam, prompt+response does not start with the prompt's own tokens, and the seam backs up by exactly one token,
 * as TRL's does (even where the merge reaches further back, so the masks are TRL's). EOS is appended; the sequence
 * is cut to maxLength keeping the start. Returns why the side cannot be trained on instead of a sequence: the prompt
 * alone fills maxLength, or prompt+response has fewer tokens than the prompt (TRL stops there with an error).
 */
export function tokenizeSequence(tok: LabTokenizer, promptText: string, response: string, maxLength: number): TokenizedSequence | string {
  const bos = tok.addBos && tok.bosTokenId !== null ? [tok.bosTokenId] : [];
  const promptIds = [...bos, ...tok.encode(promptText)];
  const textIds = [...bos, ...tok.encode(promptText + response)];
  if (textIds.length < promptIds.length) return `the response merges into the prompt's tokens (prompt+response has fewer tokens than the prompt)`;
  const merged = promptIds.some((id, i) => textIds[i] !== id);
  const promptLen = merged ? promptIds.length - 1 : promptIds.length;
  if (promptLen >= maxLength) return `the prompt alone fills maxLength ${maxLength}`;
  const ids = [...textIds, tok.eosTokenId].slice(0, maxLength);
  return { ids, promptLen, responseLen: ids.length - promptLen };
}

export function tokenizePair(
  tok: LabTokenizer,
  pair: Pick<PreferencePair, 'prompt' | 'chosen' | 'rejected'>,
  o: { maxLength: number; promptFormat?: PromptFormatOption; dataFormat: DataFormat },
): TokenizedPair {
  const promptFormat = resolvePromptFormat(tok, o.promptFormat ?? 'auto', o.dataFormat);
  let prompt = pair.prompt;
  let chosen = pair.chosen;
  let rejected = pair.rejected;
  if (promptFormat === 'chat-template') {
    prompt = tok.applyChatTemplate(messagesFor(pair.prompt, o.dataFormat), { addGenerationPrompt: true });
    chosen = chosen.trimStart();
    rejected = rejected.trimStart();
  }
  const c = tokenizeSequence(tok, prompt, chosen, o.maxLength);
  if (typeof c === 'string') return { promptFormat, dropped: c };
  const r = tokenizeSequence(tok, prompt, rejected, o.maxLength);
  if (typeof r === 'string') return { promptFormat, dropped: r };
  return { promptFormat, dropped: null, chosen: c, rejected: r };
}
