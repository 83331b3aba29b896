import path from 'node:path';
import type { CommandParsed, ScoreResult } from '@shared/contract';
import { readRows } from './data/rows';
import { loadTokenizer } from './tokenizer';
import { loadScorer, scoreSequences } from './scorer';
import { readModelSpec } from './model-config';

/**
 * `lab score`: the scorer's score of each {prompt, response} row of a file, in order. The text prompt + response is
 * tokenized as it stands (no special tokens, no EOS) and read at its last token, so other tools can check the
 * numbers. Every row is checked before the model loads; a bad row names its line and field.
 */
export async function scoreFile(input: CommandParsed<'llm:score'>): Promise<ScoreResult> {
  const file = path.resolve(input.data);
  const texts: string[] = [];
  const lines: number[] = [];
  for await (const r of readRows(file)) {
    if ('error' in r) throw new Error(`${file}:${r.line}: ${r.error}`);
    for (const field of ['prompt', 'response'])
      if (typeof r.value[field] !== 'string')
        throw new Error(
          `${file}:${r.line}: ${r.value[field] === undefined || r.value[field] === null ? `missing field "${field}"` : `field "${field}" is not text`}`,
        );
    texts.push((r.value.prompt as string) + (r.value.response as string));
    lines.push(r.line);
  }
  if (!texts.length) throw new Error(`${file}: no rows to score (expected JSON lines with "prompt" and "response")`);
  const tok = await loadTokenizer(input.scorer);
  const seqs = texts.map((t) => tok.encode(t));
  const ctx = readModelSpec(input.scorer).maxPositions;
  seqs.forEach((q, i) => {
    if (!q.length) throw new Error(`${file}:${lines[i]}: prompt + response is empty (no tokens to score)`);
    if (q.length > ctx) throw new Error(`${file}:${lines[i]}: prompt + response has ${q.length} tokens; the scorer's context is ${ctx}`);
  });
  const scorer = await loadScorer(input.scorer);
  try {
    const scores = scoreSequences(scorer, seqs, { padId: tok.padTokenId, batchSize: input.batchSize });
    return { scores, tokens: seqs.map((q) => q.length) };
  } finally {
    scorer.dispose();
  }
}
