/**
 * Which synthetic runs can train side by side as one batched tensor program. Free of tfjs, so the process
 * that queues work (Electron main, the web server) can plan batches without loading the training stack.
 */
import type { SyntheticConfig } from '@shared/synthetic-config';

/**
 * The fields that must agree for runs to share one tensor program. Everything else (loss, β, clip, label
 * smoothing, lr, seed, mask, alpha, and pairsPerPrompt under minibatching) may differ per run.
 */
export function planKey(c: SyntheticConfig): string {
  return JSON.stringify([
    c.model,
    c.K,
    c.model === 'mlp' ? c.hidden : 0,
    c.steps,
    c.refSteps,
    c.batchSize,
    c.evalEvery,
    c.logEvery,
    c.batchSize === 0 ? c.pairsPerPrompt : 0,
  ]);
}

/** Groups configs (by index, in first-seen order) into batches that can run as one program. */
export function planBatches(configs: readonly SyntheticConfig[], maxRuns = Infinity): number[][] {
  const groups = new Map<string, number[][]>();
  const order: number[][] = [];
  configs.forEach((c, i) => {
    const key = planKey(c);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    let last = list[list.length - 1];
    if (!last || last.length >= maxRuns) {
      last = [];
      list.push(last);
      order.push(last);
    }
    last.push(i);
  });
  return order;
}
