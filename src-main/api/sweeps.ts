import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { SyntheticConfigSchema, type SyntheticConfig } from '@shared/synthetic-config';
import { expandGrid, GridError, planBatches, sensitivityConfigs, table1Configs } from '../engine/synthetic/sweep';
import { runName } from './synthetic-runs';
import { LabError } from '@shared/errors';
import { summariseRuns, type SweepStartInput, type SweepSummary } from '@shared/sweeps';

/** Expands a sweep request into validated configs; errors name the grid field and value index. */
export function sweepConfigs(input: SweepStartInput): SyntheticConfig[] {
  try {
    if (input.preset === 'table1') {
      return table1Configs({ seeds: input.seeds, steps: input.steps }).map((c) =>
        SyntheticConfigSchema.parse({ ...c, ...input.base, loss: c.loss, mask: c.mask, seed: c.seed, ...(input.steps ? { steps: input.steps } : {}) }),
      );
    }
    if (input.preset === 'sensitivity') return sensitivityConfigs({ seeds: input.seeds, base: input.base });
    const grid: Record<string, readonly unknown[]> = { ...input.grid! };
    if (!grid.seed) grid.seed = Array.from({ length: input.seeds }, (_, i) => i);
    return expandGrid({ ...input.base, ...(input.steps ? { steps: input.steps } : {}) }, grid);
  } catch (err) {
    if (err instanceof GridError) throw new LabError('invalid_input', err.message, err.issues);
    throw err;
  }
}

export function summariseSweep(store: LabStore, sweepId: number, preset: string | null): SweepSummary {
  return summariseRuns(store.runs.list({ sweepId, limit: Number.MAX_SAFE_INTEGER }), preset);
}

/** Creates the sweep and its runs, queues them as batched jobs, and summarises when every job is over. */
export function startSweep(store: LabStore, manager: RunManager, input: SweepStartInput): { sweepId: number; runIds: number[]; done: Promise<void> } {
  const configs = sweepConfigs(input);
  const name =
    input.name ??
    (input.preset === 'table1'
      ? `Table 1 (${input.seeds} seeds)`
      : input.preset === 'sensitivity'
        ? `Sensitivity study (${input.seeds} seeds)`
        : `sweep over ${Object.keys(input.grid ?? {}).join(', ')}`);
  const sweepId = store.sweeps.create(name, input.preset ?? null, input);
  const runIds = store.runs.createMany(configs.map((config) => ({ name: runName(config), kind: 'synthetic' as const, config, seed: config.seed, sweepId })));
  const jobs = planBatches(configs).map((batch) => manager.enqueueSynthetic(batch.map((i) => ({ runId: runIds[i], config: configs[i] }))).done);
  const done = Promise.all(jobs).then(() => finishSweep(store, sweepId));
  return { sweepId, runIds, done };
}

/** Summarises a sweep whose runs are all over and records its outcome; a no-op while any run is still open. */
export function finishSweep(store: LabStore, sweepId: number): void {
  const sweep = store.sweeps.get(sweepId);
  if (!sweep) return;
  const summary = summariseSweep(store, sweepId, sweep.preset);
  const c = summary.statusCounts;
  if (c.queued || c.running) return;
  const total = sweep.runIds.length;
  const status = c.done === total ? 'done' : c.cancelled ? 'cancelled' : 'failed';
  store.sweeps.finish(sweepId, status, summary);
}

/** Sweeps left 'running' by a process that closed or crashed get their summary and final status now. */
export function finishOrphanedSweeps(store: LabStore): number[] {
  const open = store.sweeps.list().filter((s) => s.status === 'running' || s.status === 'queued');
  for (const s of open) finishSweep(store, s.id);
  return open.filter((s) => store.sweeps.get(s.id)?.status !== s.status).map((s) => s.id);
}
