/**
 * Benchmark sessions: one `safety-tiny` run of the whole LLM pipeline (SFT → reward and cost models → one policy
 * per loss → evaluation by the learned scorers and by the oracle), started from the Results view or the CLI. A
 * session groups its evaluations (one per loss and seed, plus the SFT model's), which the results table shows
 * beside every other evaluation and can filter by session.
 */
import { z } from 'zod';
import { LOSS_NAMES, PAPER_LOSSES } from './losses';

export const BENCH_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type BenchStatus = (typeof BENCH_STATUSES)[number];

const count = (max: number) => z.number().int().min(1).max(max);
const rate = z.number().gt(0).max(1);

/**
 * Stage sizes (engine/llm/bench/safety-tiny.ts SafetyTinyBudget): left out of the UI, they let a test run every
 * stage in seconds. Unset fields keep the benchmark's defaults.
 */
export const BenchBudgetSchema = z
  .object({
    sftExamples: count(1_000_000),
    preferenceRows: count(1_000_000),
    evalPrompts: count(100_000),
    sftSteps: count(1_000_000),
    sftBatch: count(1024),
    sftLr: rate,
    scorerSteps: count(1_000_000),
    scorerBatch: count(1024),
    scorerLr: rate,
    dpoSteps: count(1_000_000),
    dpoBatch: count(1024),
    dpoLr: rate,
    beta: z.number().gt(0).max(100),
    maxNewTokens: count(4096),
  })
  .partial()
  .strict();
export type BenchBudget = z.output<typeof BenchBudgetSchema>;

/** What `benches:start` takes. */
export const BenchStartSchema = z
  .object({
    /** seeds 1..n: the whole pipeline once per seed */
    seeds: z.number().int().min(1, 'at least 1').max(100, 'at most 100').default(1),
    losses: z
      .array(z.enum(LOSS_NAMES))
      .min(1)
      .max(LOSS_NAMES.length)
      .default([...PAPER_LOSSES]),
    /** the smoke-test sizes (every stage, numbers not meaningful) */
    quick: z.boolean().default(false),
    budget: BenchBudgetSchema.prefault({}),
    /** where models, data and runs go (new or empty; default: a folder of the session beside the database) */
    workDir: z.string().min(1).max(4096).optional(),
  })
  .strict();
export type BenchStart = z.output<typeof BenchStartSchema>;

/** Where a running benchmark is: SFT, the two scorers, the k-th of its losses, or an evaluation. */
export interface BenchProgress {
  stage: 'sft' | 'scorers' | 'loss' | 'eval';
  seed: number;
  seeds: number;
  /** scorers: which one; loss and eval: the policy ('sft' for the starting model) */
  what?: string;
  /** loss: 1-based position among the losses, and how many */
  k?: number;
  of?: number;
}

/** "seed 1/2 · loss 3 of 6 (nbdpo-symm)" */
export function benchProgressText(p: BenchProgress): string {
  const seed = `seed ${p.seed}/${p.seeds}`;
  if (p.stage === 'sft') return `${seed} · SFT`;
  if (p.stage === 'scorers') return `${seed} · scorers${p.what ? ` (${p.what} model)` : ''}`;
  if (p.stage === 'loss') return `${seed} · loss ${p.k} of ${p.of}${p.what ? ` (${p.what})` : ''}`;
  return `${seed} · eval${p.what ? ` (${p.what})` : ''}`;
}

/** One row of the grid as `lab bench safety-tiny --json` prints it. */
export interface BenchGridRow {
  loss: string;
  seed: number;
  help: number;
  harm: number;
  sr: number;
  oracleHelp: number;
  oracleHarm: number;
  oracleSr: number;
}

export interface BenchResult {
  seconds: number;
  rows: BenchGridRow[];
}

export interface BenchRecord {
  id: number;
  /** the benchmark, e.g. "safety-tiny" */
  name: string;
  settings: BenchStart;
  /** models, data and runs of the session */
  workDir: string;
  status: BenchStatus;
  error: string | null;
  /** the latest stage reached (kept after the end: where a failed session stopped) */
  progress: BenchProgress | null;
  result: BenchResult | null;
  /** lifecycle and stage lines, oldest first */
  log: string[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}
