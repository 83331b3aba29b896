import { z } from 'zod';
import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { SyntheticConfigSchema, type SyntheticConfig } from '../engine/synthetic/config';
import { expandGrid, GridError, paperTable1, planBatches, table1Configs } from '../engine/synthetic/sweep';
import { runName } from './synthetic-runs';
import { LabError } from './errors';
import { groupSweepRuns, type SweepCell, type SweepRunLike } from './sweep-cells';
export type { SweepCell } from './sweep-cells';

const GridValue = z.union([z.number(), z.string()]);

export const SweepStartSchema = z
  .object({
    name: z.string().max(200).optional(),
    /** 'table1': the paper's 6 losses × mask {0, 0.2, 0.4} × seeds */
    preset: z.enum(['table1']).optional(),
    seeds: z.number().int().min(1).max(100).default(5),
    /** Overrides every run's steps (handy for a quick look at a preset). */
    steps: z.number().int().positive().optional(),
    /** Fields shared by every run of the grid. */
    base: SyntheticConfigSchema.partial().strict().default({}),
    /** Config field → values; the sweep is their Cartesian product (× seeds unless 'seed' is a key). */
    grid: z.record(z.string(), z.array(GridValue).min(1)).optional(),
  })
  .strict()
  .refine((v) => v.preset || (v.grid && Object.keys(v.grid).length), { message: 'give a preset or a non-empty grid', path: ['grid'] });

export type SweepStartInput = z.output<typeof SweepStartSchema>;

export interface SweepSummary {
  preset: string | null;
  varying: string[];
  metric: string;
  cells: SweepCell[];
  statusCounts: Record<string, number>;
}

/** Expands a sweep request into validated configs; errors name the grid field and value index. */
export function sweepConfigs(input: SweepStartInput): SyntheticConfig[] {
  try {
    if (input.preset === 'table1') {
      return table1Configs({ seeds: input.seeds, steps: input.steps }).map((c) =>
        SyntheticConfigSchema.parse({ ...c, ...input.base, loss: c.loss, mask: c.mask, seed: c.seed, ...(input.steps ? { steps: input.steps } : {}) }),
      );
    }
    const grid: Record<string, readonly unknown[]> = { ...input.grid! };
    if (!grid.seed) grid.seed = Array.from({ length: input.seeds }, (_, i) => i);
    return expandGrid({ ...input.base, ...(input.steps ? { steps: input.steps } : {}) }, grid);
  } catch (err) {
    if (err instanceof GridError) throw new LabError('invalid_input', err.message, err.issues);
    throw err;
  }
}

/** A sweep's summary from its runs: cells keyed by the fields that vary (seeds pooled), with the paper's values. */
export function summariseRuns(runs: readonly SweepRunLike[], preset: string | null): SweepSummary {
  const statusCounts: Record<string, number> = {};
  for (const r of runs) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
  const { varying, cells } = groupSweepRuns(runs);
  if (preset === 'table1') {
    for (const cell of cells) {
      const v = paperTable1(Number(cell.key.mask), String(cell.key.loss));
      if (v !== undefined) cell.paper = v;
    }
  }
  return { preset, varying, metric: 'expectedUtility', cells, statusCounts };
}

export function summariseSweep(store: LabStore, sweepId: number, preset: string | null): SweepSummary {
  return summariseRuns(store.runs.list({ sweepId, limit: Number.MAX_SAFE_INTEGER }), preset);
}

/** Creates the sweep and its runs, queues them as batched jobs, and summarises when every job is over. */
export function startSweep(store: LabStore, manager: RunManager, input: SweepStartInput): { sweepId: number; runIds: number[]; done: Promise<void> } {
  const configs = sweepConfigs(input);
  const name = input.name ?? (input.preset === 'table1' ? `Table 1 (${input.seeds} seeds)` : `sweep over ${Object.keys(input.grid ?? {}).join(', ')}`);
  const sweepId = store.sweeps.create(name, input.preset ?? null, input);
  const runIds = store.runs.createMany(
    configs.map((config) => ({ name: runName(config), kind: 'synthetic' as const, config, seed: config.seed, sweepId })),
  );
  const jobs = planBatches(configs).map((batch) =>
    manager.enqueueSynthetic(batch.map((i) => ({ runId: runIds[i], config: configs[i] }))).done,
  );
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
