import type { LlmConfig } from '@shared/llm-config';
import type { LoadOptions } from '../models';

/** How a run's model is loaded for training; both training threads must load it the same way. */
export function loadOptionsOf(c: LlmConfig): LoadOptions {
  // Empty = the architecture's default targets (q/v projections), which the model loader knows.
  const ownTargets = c.loraTargets
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return {
    seed: c.seed,
    train: true,
    lora:
      c.finetune === 'lora'
        ? { rank: c.loraRank, alpha: c.loraAlpha, dropout: c.loraDropout, ...(ownTargets.length ? { targetModules: ownTargets } : {}) }
        : undefined,
  };
}
