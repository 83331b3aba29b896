/**
 * How a sweep's runs become its cells: the config fields whose values differ across the sweep (seed excluded)
 * key the cells; each cell holds mean ± sample std of every final metric over its finished runs. Pure and
 * browser-safe: the server's summary and the Sweeps view's live grouping are this one function.
 */
export interface SweepCell {
  /** the values of the fields that vary across the sweep (seed excluded) */
  key: Record<string, string | number>;
  runIds: number[];
  n: number;
  /** mean and sample standard deviation of each final metric over the cell's finished runs */
  metrics: Record<string, { mean: number; std: number }>;
  /** the paper's number for this cell, where the sweep is the Table 1 preset */
  paper?: number;
}

export interface SweepRunLike {
  id: number;
  status: string;
  config: Record<string, unknown>;
  final: Record<string, number> | null;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

export function groupSweepRuns(runs: readonly SweepRunLike[]): { varying: string[]; cells: SweepCell[] } {
  const sorted = [...runs].sort((a, b) => a.id - b.id);
  const configs = sorted.map((r) => r.config ?? {});
  const varying = Object.keys(configs[0] ?? {}).filter((k) => k !== 'seed' && new Set(configs.map((c) => JSON.stringify(c[k]))).size > 1);
  const cells = new Map<string, SweepCell & { finals: Record<string, number>[] }>();
  sorted.forEach((r, i) => {
    const key = Object.fromEntries(varying.map((f) => [f, configs[i][f] as string | number]));
    const id = JSON.stringify(key);
    const cell = cells.get(id) ?? { key, runIds: [], n: 0, metrics: {}, finals: [] };
    cell.runIds.push(r.id);
    if (r.status === 'done' && r.final) cell.finals.push(r.final);
    cells.set(id, cell);
  });
  const out: SweepCell[] = [];
  for (const { finals, ...cell } of cells.values()) {
    cell.n = finals.length;
    for (const nm of new Set(finals.flatMap((f) => Object.keys(f)))) {
      const xs = finals.map((f) => f[nm]).filter((v) => typeof v === 'number' && Number.isFinite(v));
      if (xs.length) cell.metrics[nm] = meanStd(xs);
    }
    out.push(cell);
  }
  return { varying, cells: out };
}
