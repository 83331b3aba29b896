/**
 * Scorer training as the lab runs it: a reward model (Bradley–Terry) or a cost model (safe-rlhf's loss with safety
 * labels) trained from a causal LM folder on a preference file, in a worker process, and stored with its held-out
 * accuracy so the Results view's scorers can be checked before they judge anything.
 */
import { z } from 'zod';

export const SCORER_KINDS = ['reward', 'cost'] as const;
export type ScorerKind = (typeof SCORER_KINDS)[number];
export const SCORER_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type ScorerStatus = (typeof SCORER_STATUSES)[number];

/** Training settings; the defaults are trainScorer's. */
export const ScorerSettingsSchema = z
  .object({
    steps: z.number().int().min(1).max(1_000_000).default(200),
    lr: z.number().gt(0).max(1).default(1e-3),
    /** tokens per sequence, the start kept */
    maxLength: z.number().int().min(2).max(32_768).default(256),
    /** pairs per step */
    batchSize: z.number().int().min(1).max(1024).default(8),
    /** share of the pairs held out to measure accuracy */
    evalFraction: z.number().gt(0).lt(1).default(0.1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .strict();
export type ScorerSettings = z.output<typeof ScorerSettingsSchema>;

const Path = (what: string) => z.string().min(1, `give the ${what}`).max(4096);

/** What `scorers:train` takes. */
export const ScorerTrainSchema = z
  .object({
    kind: z.enum(SCORER_KINDS),
    /** a causal LM folder whose trunk starts the scorer */
    model: Path('base model folder'),
    /** a preference file (HH-RLHF, PKU-SafeRLHF or generic); a cost model needs safety labels on every pair */
    data: Path('preference data file'),
    /** the scorer folder to write: absent or empty */
    out: Path('output folder'),
    settings: ScorerSettingsSchema.prefault({}),
  })
  .strict();
export type ScorerTrain = z.output<typeof ScorerTrainSchema>;

/** What a finished training reports (held-out numbers). */
export interface ScorerResult {
  /** held-out pairs ordered right (null when no pair was held out) */
  accuracy: number | null;
  /** cost models: held-out responses whose cost sign matches their safety label */
  signAccuracy: number | null;
  trainPairs: number;
  evalPairs: number;
  steps: number;
  finalLoss: number;
  seconds: number;
}

export interface ScorerRecord {
  id: number;
  kind: ScorerKind;
  model: string;
  data: string;
  out: string;
  settings: ScorerSettings;
  status: ScorerStatus;
  error: string | null;
  result: ScorerResult | null;
  /** lifecycle and progress lines, oldest first */
  log: string[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}
