/**
 * Sweeps as the API sees them: the request schema (a preset or a grid) and the summary of a sweep's runs,
 * which the server stores when a sweep ends and the Sweeps view recomputes live from the same function.
 */
import { z } from 'zod';
import { SyntheticConfigFields, whole } from './synthetic-config';
import { groupSweepRuns, type SweepCell, type SweepRunLike } from './sweep-cells';
import { TABLE1_MASKS, paperTable1 } from './paper';
import { PAPER_LOSSES } from './losses';
import { sensitivityRunCount, summariseSensitivity, type SensitivityStudy } from './sensitivity';

const GridValue = z.union([z.number(), z.string()]);

/** The most runs one sweep may create. */
export const MAX_SWEEP_RUNS = 5000;

export const SweepStartSchema = z
  .object({
    name: z.string().max(200).optional(),
    /**
     * 'table1': the paper's 6 losses × mask {0, 0.2, 0.4} × seeds; 'sensitivity': the same × steps × β × lr ×
     * model (sensitivity.ts SENSITIVITY_AXES)
     */
    preset: z.enum(['table1', 'sensitivity']).optional(),
    seeds: z.number().int().min(1).max(100).default(5),
    /** Overrides every run's steps (handy for a quick look at a preset). */
    steps: whole('steps', 1, 1_000_000).optional(),
    /** Fields shared by every run of the grid. */
    base: SyntheticConfigFields.partial().strict().default({}),
    /** Config field → values; the sweep is their Cartesian product (× seeds unless 'seed' is a key). */
    grid: z.record(z.string(), z.array(GridValue).min(1)).optional(),
  })
  .strict()
  .refine((v) => v.preset || (v.grid && Object.keys(v.grid).length), { message: 'give a preset or a non-empty grid', path: ['grid'] })
  .refine((v) => !(v.preset && v.grid), { message: 'give a preset or a grid, not both (a preset fixes its own grid)', path: ['grid'] })
  .refine((v) => !(v.preset === 'sensitivity' && v.steps), { message: 'the sensitivity study varies steps itself (300, 1000, 3000)', path: ['steps'] })
  // counted before anything expands, so a small request cannot ask for millions of runs
  .refine((v) => sweepRunCount(v) <= MAX_SWEEP_RUNS, {
    message: `the grid expands to more than ${MAX_SWEEP_RUNS} runs (values per field multiplied, times seeds); split it`,
    path: ['grid'],
  });

/** How many runs a sweep request expands to, without expanding it. */
export function sweepRunCount(v: { preset?: string; seeds: number; grid?: Record<string, readonly unknown[]> }): number {
  if (v.preset === 'table1') return PAPER_LOSSES.length * TABLE1_MASKS.length * v.seeds;
  if (v.preset === 'sensitivity') return sensitivityRunCount(v.seeds);
  const grid = v.grid ?? {};
  const cells = Object.values(grid).reduce((n, values) => n * values.length, 1);
  return cells * ('seed' in grid ? 1 : v.seeds);
}

export type SweepStartInput = z.output<typeof SweepStartSchema>;

export interface SweepSummary {
  preset: string | null;
  varying: string[];
  /** the metric the summary is read by: expectedUtilityNormalized for the paper's presets, else expectedUtility */
  metric: string;
  cells: SweepCell[];
  statusCounts: Record<string, number>;
  /** the sensitivity preset's per-setting table */
  sensitivity?: SensitivityStudy;
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
  // the presets compare with the paper, so their headline metric is the one on the paper's scale
  const metric = preset === 'table1' || preset === 'sensitivity' ? 'expectedUtilityNormalized' : 'expectedUtility';
  const summary: SweepSummary = { preset, varying, metric, cells, statusCounts };
  if (preset === 'sensitivity') summary.sensitivity = summariseSensitivity(runs);
  return summary;
}
