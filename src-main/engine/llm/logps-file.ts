import fs from 'node:fs';
import path from 'node:path';
import type { CommandParsed, LogpsResult } from '@shared/contract';
import { loadCausalLM } from './models';
import { sequenceLogps } from './logps';
import { packSequences } from './sequence-batch';
import { preparePairs, isKept } from './prepare-data';

/** The base model with a PEFT adapter folder's LoRA weights on top (rank, alpha and targets from adapter_config.json). */
async function loadWithAdapter(model: string, adapter: string) {
  const file = path.join(adapter, 'adapter_config.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (a PEFT adapter folder has adapter_config.json)`);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { r?: number; lora_alpha?: number; target_modules?: string[] | string };
  if (!cfg.r || !cfg.lora_alpha) throw new Error(`${file}: r and lora_alpha are required`);
  const targets = typeof cfg.target_modules === 'string' ? [cfg.target_modules] : cfg.target_modules;
  const lm = await loadCausalLM(model, { lora: { rank: cfg.r, alpha: cfg.lora_alpha, ...(targets ? { targetModules: targets } : {}) } });
  try {
    lm.loadAdapter(adapter);
  } catch (err) {
    lm.dispose();
    throw err;
  }
  return lm;
}

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
  const lm = input.adapter ? await loadWithAdapter(input.model, input.adapter) : await loadCausalLM(input.model);
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
