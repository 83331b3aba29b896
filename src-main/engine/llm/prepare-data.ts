import { loadTokenizer, type LabTokenizer } from './tokenizer';
import { loadPreferenceFile } from './data';
import { tokenizePair } from './pair-tokens';
import type { PreferenceData, PreferencePair } from '@shared/llm-data';
import type { TokenizedSequence } from './sequence-batch';

export interface TokenizedPairOk {
  index: number;
  pair: PreferencePair;
  chosen: TokenizedSequence;
  rejected: TokenizedSequence;
}
export interface TokenizedPairDropped {
  index: number;
  pair: PreferencePair;
  dropped: string;
}
export type TokenizedPairResult = TokenizedPairOk | TokenizedPairDropped;

export interface PreparedPairs {
  tokenizer: LabTokenizer;
  data: PreferenceData;
  /** one entry per pair of the file (after maxPairs), in file order */
  items: TokenizedPairResult[];
  promptFormat: string;
}

export interface PrepareOptions {
  model: string;
  data: string;
  format: 'auto' | 'hh' | 'saferlhf' | 'generic';
  preference: 'better' | 'safer';
  promptFormat: 'auto' | 'chat-template' | 'raw';
  maxLength: number;
  /** 0 = all */
  maxPairs?: number;
}

/** The model's tokenizer and the file's pairs, tokenized exactly as training and `lab logps` see them. */
export async function preparePairs(o: PrepareOptions): Promise<PreparedPairs> {
  const tokenizer = await loadTokenizer(o.model);
  const data = await loadPreferenceFile(o.data, { format: o.format, preference: o.preference });
  const pairs = o.maxPairs ? data.pairs.slice(0, o.maxPairs) : data.pairs;
  let promptFormat = 'raw';
  const items = pairs.map((pair, index): TokenizedPairResult => {
    const t = tokenizePair(tokenizer, pair, { maxLength: o.maxLength, promptFormat: o.promptFormat, dataFormat: data.format });
    promptFormat = t.promptFormat;
    if (t.dropped !== null) return { index, pair, dropped: t.dropped };
    return { index, pair, chosen: t.chosen, rejected: t.rejected };
  });
  return { tokenizer, data, items, promptFormat };
}

export const isKept = (t: TokenizedPairResult): t is TokenizedPairOk => !('dropped' in t);
