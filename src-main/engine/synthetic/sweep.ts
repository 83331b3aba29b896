/**
 * Sweeps over synthetic run configs: grid expansion, the paper's Table 1 preset (and its published numbers),
 * batching plans, and mean ± std summaries of the final expected utility.
 */
import { PAPER_LOSSES } from '@shared/losses';
import { TABLE1_MASKS } from '@shared/paper';
import { SENSITIVITY_AXES } from '@shared/sensitivity';
import { SyntheticConfigFields, SyntheticConfigSchema, type SyntheticConfig, type SyntheticConfigInput } from '@shared/synthetic-config';
import { planBatches, planKey } from './plan';

export { planBatches, planKey };

export interface GridIssue {
  path: string;
  message: string;
}

/** A grid that does not expand into valid configs; issues are named like "grid.lr[2]: lr must be positive". */
export class GridError extends Error {
  constructor(readonly issues: GridIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'GridError';
  }
}

/**
 * The Cartesian product of `grid` (config field → values) on top of `base`, validated and with defaults
 * filled. The first grid field varies slowest. An empty grid gives [base].
 */
export function expandGrid(
  base: Partial<SyntheticConfigInput> | Record<string, unknown>,
  grid: Readonly<Record<string, readonly unknown[]>>,
): SyntheticConfig[] {
  const fields = Object.keys(SyntheticConfigSchema.shape);
  const keys = Object.keys(grid);
  const issues: GridIssue[] = [];
  for (const k of keys) {
    if (!fields.includes(k)) issues.push({ path: `grid.${k}`, message: `not a run-config field (fields: ${fields.join(', ')})` });
    else if (!Array.isArray(grid[k]) || grid[k].length === 0) issues.push({ path: `grid.${k}`, message: 'needs at least one value' });
  }
  const baseRes = SyntheticConfigFields.partial().safeParse(base);
  if (!baseRes.success) for (const i of baseRes.error.issues) issues.push({ path: ['base', ...i.path].join('.'), message: i.message });
  // check each grid value on its own, so the error names the value's index
  for (const k of keys) {
    if (!fields.includes(k) || !Array.isArray(grid[k])) continue;
    const fieldSchema = SyntheticConfigSchema.shape[k as keyof typeof SyntheticConfigSchema.shape];
    grid[k].forEach((val, i) => {
      const r = fieldSchema.safeParse(val);
      if (!r.success) issues.push({ path: `grid.${k}[${i}]`, message: r.error.issues[0]?.message ?? 'invalid value' });
    });
  }
  if (issues.length) throw new GridError(issues);

  let combos: Record<string, unknown>[] = [{}];
  for (const k of keys) combos = combos.flatMap((c) => grid[k].map((val) => ({ ...c, [k]: val })));
  return combos.map((c) => {
    // a grid over loss with a custom loss in base: only the 'custom' runs keep it
    const merged: Record<string, unknown> = { ...base, ...c };
    if (merged.loss !== 'custom') delete merged.customLoss;
    const r = SyntheticConfigSchema.safeParse(merged);
    if (!r.success) throw new GridError(r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    return r.data;
  });
}

export interface Table1Options {
  /** seeds 0..seeds−1 (default 5) */
  seeds?: number;
  /** training steps per run (default: the config default, 1000) */
  steps?: number;
  /** other fields shared by every run */
  base?: Partial<SyntheticConfigInput>;
}

/** 6 paper losses × mask {0, 0.2, 0.4} × seeds, ordered mask → seed → loss (so one batch per cell is easy). */
export function table1Configs(opts: Table1Options = {}): SyntheticConfig[] {
  const seeds = opts.seeds ?? 5;
  const out: SyntheticConfig[] = [];
  for (const mask of TABLE1_MASKS)
    for (let seed = 0; seed < seeds; seed++)
      for (const loss of PAPER_LOSSES)
        out.push(SyntheticConfigSchema.parse({ ...opts.base, ...(opts.steps !== undefined ? { steps: opts.steps } : {}), loss, mask, seed }));
  return out;
}

export interface SensitivityOptions {
  /** seeds 0..seeds−1 (default 3) */
  seeds?: number;
  /** other fields shared by every run */
  base?: Partial<SyntheticConfigInput>;
}

/**
 * The sensitivity study's runs: SENSITIVITY_AXES × the six paper losses × seeds, ordered so each plannable
 * program (model × steps) is contiguous. Each run evaluates 10 times and logs 20 times over its training, so a
 * study of ~1300 runs stores hundreds of thousands of metric rows rather than tens of millions (every step).
 */
export function sensitivityConfigs(opts: SensitivityOptions = {}): SyntheticConfig[] {
  const seeds = opts.seeds ?? 3;
  const a = SENSITIVITY_AXES;
  const out: SyntheticConfig[] = [];
  for (const model of a.model)
    for (const steps of a.steps)
      for (const beta of a.beta)
        for (const lr of a.lr)
          for (const mask of a.mask)
            for (let seed = 0; seed < seeds; seed++)
              for (const loss of PAPER_LOSSES)
                out.push(
                  SyntheticConfigSchema.parse({
                    ...opts.base,
                    model,
                    steps,
                    beta,
                    lr,
                    mask,
                    seed,
                    loss,
                    evalEvery: Math.max(1, Math.round(steps / 10)),
                    logEvery: Math.max(1, Math.round(steps / 20)),
                  }),
                );
  return out;
}
