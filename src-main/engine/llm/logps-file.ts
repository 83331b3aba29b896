import type { CommandParsed, LogpsResult } from '@shared/contract';
import { loadCausalLM } from './models';
import { sequenceLogps } from './logps';
import { packSequences } from './sequence-batch';
import { preparePairs, isKept } from './prepare-data';

/**
 * `lab logps`: the sequence log-probs of every pair in a file under a model, computed by the trainer's own code
 * (same tokenization, EOS, truncation and masking), so other tools can be checked against the lab.
 */
export async function logpsOfFile(input: CommandParsed<'llm:logps'>): Promise<LogpsResult> {
  const prepared = await preparePairs({
    model: input.model,
    data: input.data,
    format: input.format,
    preference: input.preference,
    promptFormat: input.promptFormat,
    maxLength: input.maxLength,
  });
  const lm = await loadCausalLM(input.model);
  try {
    const out: LogpsResult = {
      logps: prepared.items.map(() => null),
      tokens: prepared.items.map(() => null),
      skipped: prepared.data.skipped,
      dropped: prepared.items.flatMap((t) => ('dropped' in t ? [{ index: t.index, reason: t.dropped }] : [])),
      promptFormat: prepared.promptFormat,
    };
    const kept = prepared.items.filter(isKept);
    for (let i = 0; i < kept.length; i += input.batchSize) {
      const part = kept.slice(i, i + input.batchSize);
      const batch = packSequences([...part.map((p) => p.chosen), ...part.map((p) => p.rejected)], prepared.tokenizer.padTokenId);
      const lp = sequenceLogps(lm, batch);
      const v = lp.dataSync();
      lp.dispose();
      part.forEach((p, k) => {
        out.logps[p.index] = { chosen: v[k], rejected: v[part.length + k] };
        out.tokens[p.index] = { chosen: p.chosen.responseLen, rejected: p.rejected.responseLen };
      });
    }
    return out;
  } finally {
    lm.dispose();
  }
}
