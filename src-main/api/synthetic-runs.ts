import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import type { SyntheticConfig } from '@shared/synthetic-config';
import { parseDatasetForConfig } from '../engine/synthetic/dataset';
import type { CommandParsed } from '@shared/contract';
import { LabError } from '@shared/errors';
import { lossLabel, withLoss } from '@shared/losses';

export function runName(c: SyntheticConfig): string {
  return `${lossLabel(c)} · ${c.model} · mask ${c.mask} · seed ${c.seed}`;
}

/**
 * Creates the runs of one launch (one per loss when several are asked for) and queues them as one batched
 * job. The dataset, if given, is checked against the config first, so a bad file leaves nothing behind.
 */
export function startSyntheticRuns(
  store: LabStore,
  manager: RunManager,
  input: Extract<CommandParsed<'runs:start'>, { kind: 'synthetic' }>,
  opts: { sweepId?: number } = {},
): { runIds: number[]; done: Promise<void> } {
  const configs: SyntheticConfig[] = (input.losses ?? [input.config.loss]).map((loss) => withLoss(input.config, loss));
  let dataset: unknown;
  if (input.dataset !== undefined) {
    try {
      dataset = parseDatasetForConfig(input.dataset, configs[0], 'dataset');
    } catch (err) {
      throw new LabError('invalid_input', (err as Error).message, [{ path: 'dataset', message: (err as Error).message }]);
    }
  }
  const runIds = store.runs.createMany(
    configs.map((config) => ({
      name: input.name && configs.length === 1 ? input.name : input.name ? `${input.name} · ${lossLabel(config)}` : runName(config),
      kind: 'synthetic',
      config,
      seed: config.seed,
      tags: input.tags,
      sweepId: opts.sweepId ?? null,
    })),
  );
  const { done } = manager.enqueueSynthetic(runIds.map((runId, i) => ({ runId, config: configs[i], dataset })));
  return { runIds, done };
}
