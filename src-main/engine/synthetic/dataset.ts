/**
 * The synthetic dataset file (synthetic.md § Dataset file), so two implementations can train on the same data:
 * `{"K":20, "alpha":0.6, "mask":[[x,y],...], "pairs":[[x, yWinner, yLoser], ...]}`, ids 0-based.
 * Every error names the field and index, e.g. `pairs[17][2]: 25 is out of range 0..19`.
 */
import { z } from 'zod';
import { MAX_DATASET_PAIRS, type SyntheticConfig } from '@shared/synthetic-config';

export interface SyntheticDataset {
  K: number;
  alpha: number;
  /** masked (never trained on) cells [x, y] */
  mask: [number, number][];
  /** preference pairs [x, yWinner, yLoser] */
  pairs: [number, number, number][];
}

const id = z.number({ error: 'expected an integer id' }).int({ error: 'expected an integer id' });

/**
 * Shape of the file. Range checks that need K (ids in 0..K−1, masked cells, winner ≠ loser) are in
 * parseDataset, which reports them with the same path format. Unknown top-level keys are ignored.
 */
export const SyntheticDatasetSchema = z.object({
  K: z.number({ error: 'expected an integer ≥ 2' }).int('expected an integer ≥ 2').min(2, 'expected an integer ≥ 2').max(512, 'at most 512'),
  alpha: z.number({ error: 'expected a positive number' }).positive('expected a positive number').finite(),
  mask: z.array(z.tuple([id, id], { error: 'expected a cell [x, y]' }), { error: 'expected an array of cells [x, y]' }).default([]),
  pairs: z
    .array(z.tuple([id, id, id], { error: 'expected a pair [x, yWinner, yLoser]' }), { error: 'expected an array of pairs [x, yWinner, yLoser]' })
    .min(1, 'the dataset has no pairs')
    .max(MAX_DATASET_PAIRS, `at most ${MAX_DATASET_PAIRS} pairs`),
});

export interface DatasetIssue {
  path: string;
  message: string;
}

/** A dataset file that cannot be used; `message` lists the first issues as "path: message". */
export class DatasetError extends Error {
  constructor(readonly issues: DatasetIssue[]) {
    const shown = issues.slice(0, 10).map((i) => `${i.path}: ${i.message}`);
    if (issues.length > 10) shown.push(`… (${issues.length} issues in all)`);
    super(shown.join('; '));
    this.name = 'DatasetError';
  }
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let s = prefix;
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s || '(root)';
}

/**
 * Parses and validates a dataset (an object, or its JSON text). `prefix` is prepended to every path
 * (e.g. "dataset" gives "dataset.pairs[17][2]: …"). Throws DatasetError.
 */
export function parseDataset(raw: unknown, prefix = ''): SyntheticDataset {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new DatasetError([{ path: prefix || '(root)', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DatasetError([{ path: prefix || '(root)', message: 'expected an object {"K", "alpha", "mask", "pairs"}' }]);
  }
  // counted before each pair is checked, so an oversized dataset is refused at once
  const pairs = (value as { pairs?: unknown }).pairs;
  if (Array.isArray(pairs) && pairs.length > MAX_DATASET_PAIRS)
    throw new DatasetError([{ path: formatPath(prefix, ['pairs']), message: `${pairs.length} pairs; at most ${MAX_DATASET_PAIRS}` }]);
  const res = SyntheticDatasetSchema.safeParse(value);
  if (!res.success) {
    throw new DatasetError(res.error.issues.map((i) => ({ path: formatPath(prefix, i.path), message: i.message })));
  }
  const ds = res.data as SyntheticDataset;
  const { K } = ds;
  const issues: DatasetIssue[] = [];
  const at = (...p: (string | number)[]) => formatPath(prefix, p);
  const range = (v: number) => `${v} is out of range 0..${K - 1}`;
  const masked = new Set<number>();
  ds.mask.forEach(([x, y], i) => {
    if (x < 0 || x >= K) issues.push({ path: at('mask', i, 0), message: range(x) });
    if (y < 0 || y >= K) issues.push({ path: at('mask', i, 1), message: range(y) });
    if (x < 0 || x >= K || y < 0 || y >= K) return;
    if (masked.has(x * K + y)) issues.push({ path: at('mask', i), message: `cell [${x}, ${y}] is listed twice` });
    masked.add(x * K + y);
  });
  ds.pairs.forEach(([x, w, l], i) => {
    let ok = true;
    [x, w, l].forEach((v, j) => {
      if (v < 0 || v >= K) {
        issues.push({ path: at('pairs', i, j), message: range(v) });
        ok = false;
      }
    });
    if (!ok) return;
    if (w === l) issues.push({ path: at('pairs', i), message: `winner and loser are the same response (${w})` });
    if (masked.has(x * K + w)) issues.push({ path: at('pairs', i, 1), message: `cell [${x}, ${w}] (prompt ${x}, winner ${w}) is masked` });
    if (masked.has(x * K + l)) issues.push({ path: at('pairs', i, 2), message: `cell [${x}, ${l}] (prompt ${x}, loser ${l}) is masked` });
  });
  if (issues.length) throw new DatasetError(issues);
  return ds;
}

/** Throws DatasetError when the dataset's K or alpha disagree with the run config's. */
export function checkDatasetMatchesConfig(ds: SyntheticDataset, config: Pick<SyntheticConfig, 'K' | 'alpha'>, prefix = ''): void {
  const issues: DatasetIssue[] = [];
  if (ds.K !== config.K) issues.push({ path: formatPath(prefix, ['K']), message: `the dataset has K = ${ds.K} but the run config has K = ${config.K}` });
  if (Math.abs(ds.alpha - config.alpha) > 1e-12 * Math.max(1, Math.abs(config.alpha)))
    issues.push({ path: formatPath(prefix, ['alpha']), message: `the dataset has alpha = ${ds.alpha} but the run config has alpha = ${config.alpha}` });
  if (issues.length) throw new DatasetError(issues);
}

/** parseDataset + checkDatasetMatchesConfig: what a run given a dataset file does before it starts. */
export function parseDatasetForConfig(raw: unknown, config: Pick<SyntheticConfig, 'K' | 'alpha'>, prefix = ''): SyntheticDataset {
  const ds = parseDataset(raw, prefix);
  checkDatasetMatchesConfig(ds, config, prefix);
  return ds;
}

/** The dataset as file text (compact JSON, keys in the documented order). */
export function exportDataset(ds: SyntheticDataset): string {
  return JSON.stringify({ K: ds.K, alpha: ds.alpha, mask: ds.mask, pairs: ds.pairs });
}

export interface DatasetSummary {
  K: number;
  alpha: number;
  pairs: number;
  maskedCells: number;
  /** fraction of the K² cells that are masked */
  maskedFraction: number;
  /** pairs per prompt x */
  perPrompt: number[];
  /** masked responses per prompt x */
  maskedPerPrompt: number[];
  /** fraction of pairs whose winner has the higher utility (≈ how clean the labels are); ties count ½ */
  agreesWithUtility: number;
}

export function datasetSummary(ds: SyntheticDataset): DatasetSummary {
  const perPrompt = new Array<number>(ds.K).fill(0);
  const maskedPerPrompt = new Array<number>(ds.K).fill(0);
  for (const [x] of ds.mask) maskedPerPrompt[x]++;
  let agree = 0;
  for (const [x, w, l] of ds.pairs) {
    perPrompt[x]++;
    const dw = Math.abs(w - x);
    const dl = Math.abs(l - x);
    agree += dw < dl ? 1 : dw === dl ? 0.5 : 0;
  }
  return {
    K: ds.K,
    alpha: ds.alpha,
    pairs: ds.pairs.length,
    maskedCells: ds.mask.length,
    maskedFraction: ds.mask.length / (ds.K * ds.K),
    perPrompt,
    maskedPerPrompt,
    agreesWithUtility: ds.pairs.length ? agree / ds.pairs.length : 0,
  };
}
