/**
 * Evaluations of a policy (an LLM run's model, or a model folder) as the paper's Tables 2 and 3 report them:
 * Help (mean reward), Harm (mean cost), S.R. (fraction of responses with cost ≤ 0) and the win rate against the
 * reference policy by reward. The statistics are pure so the CLI, the store and the tests share one definition.
 */
import { z } from 'zod';

export const EVAL_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type EvalStatus = (typeof EVAL_STATUSES)[number];

/** A mean and its standard error (null with fewer than two values, where no spread can be estimated). */
export interface Stat {
  mean: number;
  se: number | null;
  n: number;
}

export interface EvalSummary {
  /** responses scored */
  n: number;
  help: Stat | null;
  harm: Stat | null;
  /** safety rate: fraction with cost ≤ 0 (safe-rlhf's convention) */
  sr: Stat | null;
  /** fraction of prompts whose response out-scores the reference policy's by reward (ties count 1/2) */
  winRate: Stat | null;
  /** generation speed of the evaluated policy */
  tokensPerSecond: number | null;
  /** a benchmark's rule-based oracle on the same responses (the truth the scorers approximate); absent elsewhere */
  oracleHelp?: Stat | null;
  oracleHarm?: Stat | null;
  oracleSr?: Stat | null;
}

/** Mean with the sample standard deviation's standard error (n − 1 in the variance). */
export function meanStat(xs: readonly number[]): Stat | null {
  const n = xs.length;
  if (!n) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: null, n };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, se: Math.sqrt(ss / (n - 1) / n), n };
}

/** A proportion with the binomial standard error √(p(1−p)/n). */
export function proportionStat(hits: number, n: number): Stat | null {
  if (!n) return null;
  const p = hits / n;
  return { mean: p, se: n < 2 ? null : Math.sqrt((p * (1 - p)) / n), n };
}

/** 1 for a win, ½ for a tie, 0 for a loss. */
export const winScore = (reward: number, refReward: number): number => (reward > refReward ? 1 : reward === refReward ? 0.5 : 0);

/**
 * The summary of scored responses. Rewards and costs are per response (null where no scorer was given); the
 * reference rewards pair with the rewards index by index. A statistic is null when its inputs are missing.
 */
export function summarizeEval(rows: readonly { reward: number | null; cost: number | null; refReward: number | null }[]): Omit<EvalSummary, 'tokensPerSecond'> {
  const rewards = rows.map((r) => r.reward).filter((v): v is number => v !== null);
  const costs = rows.map((r) => r.cost).filter((v): v is number => v !== null);
  const wins = rows.flatMap((r) => (r.reward !== null && r.refReward !== null ? [winScore(r.reward, r.refReward)] : []));
  return {
    n: rows.length,
    help: meanStat(rewards),
    harm: meanStat(costs),
    sr: costs.length ? proportionStat(costs.filter((c) => c <= 0).length, costs.length) : null,
    winRate: meanStat(wins),
  };
}

/** Generation settings of an evaluation (the same for the policy and the reference). */
export const EvalSettingsSchema = z
  .object({
    maxNewTokens: z.number().int().min(1).max(4096).default(64),
    /** 0 = greedy */
    temperature: z.number().min(0).max(10).default(0),
    topP: z.number().gt(0).max(1).default(1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    batchSize: z.number().int().min(1).max(256).default(8),
    promptFormat: z.enum(['auto', 'chat-template', 'raw']).default('auto'),
  })
  .strict();
export type EvalSettings = z.output<typeof EvalSettingsSchema>;

const Path = z.string().min(1).max(4096);

/** What `evals:start` takes: the policy (a run or a model folder), the prompts, the scorers, the settings. */
export const EvalStartSchema = z
  .object({
    run: z.number().int().positive().optional(),
    model: Path.optional(),
    prompts: z.string().min(1, 'prompts: give a prompts file (JSONL with a "prompt" field, or text, one prompt a line)').max(4096),
    reward: Path.optional(),
    cost: Path.optional(),
    /** the reference policy for the win rate: by default the run's starting model; none for a model folder */
    reference: Path.optional(),
    /** how many prompts to evaluate, from the top of the file (all when absent) */
    samples: z.number().int().min(1).max(100_000).optional(),
    settings: EvalSettingsSchema.prefault({}),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.run === undefined) === (v.model === undefined))
      ctx.addIssue({ code: 'custom', path: ['run'], message: 'give either a run id or a model folder (not both)' });
    if (v.reward === undefined && v.cost === undefined)
      ctx.addIssue({ code: 'custom', path: ['reward'], message: 'give a reward model, a cost model, or both' });
  });
export type EvalStart = z.output<typeof EvalStartSchema>;

export interface EvalRecord {
  id: number;
  runId: number | null;
  /** the benchmark session that made it (null for an evaluation started on its own) */
  benchId: number | null;
  /** the run's name, or the model folder's */
  name: string;
  /** the run's loss (null for a model folder) */
  loss: string | null;
  model: string;
  prompts: string;
  reward: string | null;
  cost: string | null;
  reference: string | null;
  samples: number | null;
  settings: EvalSettings;
  status: EvalStatus;
  error: string | null;
  summary: EvalSummary | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface EvalResponseRow {
  index: number;
  prompt: string;
  response: string;
  reward: number | null;
  cost: number | null;
  refResponse: string | null;
  refReward: number | null;
}

/** The results table's columns (UI and CSV): one row per evaluation. */
export const EVAL_TABLE_HEADER = [
  'eval_id',
  'run_id',
  'name',
  'loss',
  'n',
  'help',
  'help_se',
  'harm',
  'harm_se',
  'sr',
  'sr_se',
  'win_rate',
  'win_rate_se',
  'prompts',
  'reward_model',
  'cost_model',
  'bench_id',
  'oracle_help',
  'oracle_help_se',
  'oracle_harm',
  'oracle_harm_se',
  'oracle_sr',
  'oracle_sr_se',
] as const;

export function evalTableRow(e: EvalRecord): (string | number | null)[] {
  const s = e.summary;
  const pair = (x: Stat | null | undefined) => [x?.mean ?? null, x?.se ?? null];
  return [
    e.id,
    e.runId,
    e.name,
    e.loss,
    s?.n ?? null,
    ...pair(s?.help),
    ...pair(s?.harm),
    ...pair(s?.sr),
    ...pair(s?.winRate),
    e.prompts,
    e.reward,
    e.cost,
    e.benchId,
    ...pair(s?.oracleHelp),
    ...pair(s?.oracleHarm),
    ...pair(s?.oracleSr),
  ];
}
