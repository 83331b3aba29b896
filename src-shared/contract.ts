/**
 * The one API of DPO Lab: every command the UI, the web server and the CLI can call, with its input schema
 * (validated at every boundary) and its output type. Electron's preload, the HTTP client and the server are
 * all generated from COMMAND_NAMES, so a command added here is reachable everywhere.
 */
import { z } from 'zod';
import { SyntheticConfigSchema } from './synthetic-config';
import { LlmConfigSchema } from './llm-config';
import type { DatasetInspection, LogpsResult, ModelExportResult, ModelInspection, ScoreResult } from './llm-api';
import { LOSS_CHOICES } from './losses';
import { RUN_KINDS, RUN_STATUSES, type LogLine, type RunDetail, type RunSummary, type Series, type SweepRecord } from './runs';
import { TheoryInputSchema, type TheoryResult } from './theory';
import { SweepStartSchema } from './sweeps';
import { LossInspectInputSchema, type LossInspectResult } from './loss-inspect';
import { EvalStartSchema, type EvalRecord, type EvalResponseRow } from './eval';
import { StatsInputSchema, type StatsResult } from './run-stats';
import { ScorerTrainSchema, type ScorerRecord } from './scorers';
import { BenchStartSchema, type BenchRecord } from './bench';
import { CustomLossSaveSchema, type CustomLossRecord } from './custom-losses';
import {
  BundleExportInputSchema,
  BundleImportInputSchema,
  RerunInputSchema,
  type BundleExportResult,
  type BundleImportResult,
  type RerunResult,
} from './bundle';
import { ReportInputSchema, type ReportOutput } from './report';
import { TrlExportInputSchema, TrlImportInputSchema, type TrlExportResult, type TrlImportResult } from './trl-job';
import { LabError, issuesFromZod, formatIssues } from './errors';
import type { COMMAND_NAME_LIST } from './channels';
export type { FieldIssue, LabErrorBody, Envelope, ErrorCode } from './errors';
export type { LabEvent } from './events';
export type { RunSummary, RunDetail, RunStatus, LogLine, Series, SweepRecord } from './runs';
export type { SweepSummary } from './sweeps';
export type { SweepCell } from './sweep-cells';
export type { TheoryResult } from './theory';
export type { LossInspectResult } from './loss-inspect';
export type { DatasetInspection, LogpsResult, ModelExportResult, ModelInspection, ScoreResult } from './llm-api';
export type { EvalRecord, EvalResponseRow, EvalSummary, EvalSettings, Stat } from './eval';
export type { StatsResult, StatsGroup, StatsTest } from './run-stats';
export type { CustomLossRecord } from './custom-losses';
export type { ScorerRecord, ScorerResult, ScorerSettings, ScorerKind, ScorerStatus } from './scorers';
export type { BenchRecord, BenchProgress, BenchResult, BenchGridRow, BenchStatus } from './bench';

const RunId = z.number().int().positive();

/** Request-size bounds: small inputs must not ask for unbounded work (a 40 KB body of one repeated id, …). */
export const LIMITS = { exportRuns: 200, metricNames: 500 } as const;
const Empty = z.object({}).strict().default({});

/** `losses: [..., 'custom']` runs config.customLoss, so the config must carry one. */
function customInLossList(v: { losses?: readonly string[]; config: { customLoss?: unknown } }, ctx: z.RefinementCtx): void {
  if (v.losses?.includes('custom') && v.config.customLoss === undefined)
    ctx.addIssue({ code: 'custom', path: ['losses'], message: "'custom' needs config.loss 'custom' with config.customLoss: { name, formula }" });
}

export const commandInputs = {
  'app:info': Empty,
  'runs:list': z
    .object({
      kind: z.enum(RUN_KINDS).optional(),
      status: z.enum(RUN_STATUSES).optional(),
      loss: z.string().optional(),
      tag: z.string().optional(),
      sweepId: RunId.optional(),
      search: z.string().max(200).optional(),
      limit: z.number().int().positive().max(100_000).optional(),
    })
    .strict()
    .default({}),
  'runs:get': z.object({ id: RunId }).strict(),
  'runs:start': z.discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('synthetic'),
        config: SyntheticConfigSchema,
        /** One run per loss, trained side by side; overrides config.loss ('custom': config.customLoss). */
        losses: z.array(z.enum(LOSS_CHOICES)).min(1).max(LOSS_CHOICES.length).optional(),
        /** Dataset in the synthetic dataset-file format; checked against the config before anything is saved. */
        dataset: z.unknown().optional(),
        name: z.string().max(200).optional(),
        tags: z.array(z.string().max(50)).max(20).optional(),
      })
      .strict()
      .superRefine(customInLossList),
    z
      .object({
        kind: z.literal('llm'),
        config: LlmConfigSchema,
        /** One run per loss, queued one after another (each from the same starting model); overrides config.loss ('custom': config.customLoss). */
        losses: z.array(z.enum(LOSS_CHOICES)).min(1).max(LOSS_CHOICES.length).optional(),
        name: z.string().max(200).optional(),
        tags: z.array(z.string().max(50)).max(20).optional(),
      })
      .strict()
      .superRefine(customInLossList),
  ]),
  /** Continues a cancelled or failed LLM run from its last checkpoint. */
  'runs:resume': z.object({ id: RunId }).strict(),
  /** Writes an LLM run's model as a Hugging Face folder: merged weights, or a PEFT adapter. */
  'runs:exportModel': z
    .object({ id: RunId, out: z.string().min(1).max(4096), mode: z.enum(['merged', 'adapter']).default('merged'), overwrite: z.boolean().default(false) })
    .strict(),
  /** Writes an LLM run as a TRL + Accelerate job folder (dpo_lab_losses.py, train.py, accelerate/, README.md). */
  'runs:exportTrl': TrlExportInputSchema,
  /** Reads a TRL job's trainer_state.json into a run of kind 'trl' (again: adds only new steps). */
  'runs:importTrl': TrlImportInputSchema,
  'models:inspect': z
    .object({ path: z.string().min(1, 'path: give a model folder').max(4096), maxLength: z.number().int().min(8).max(32_768).default(512) })
    .strict(),
  'datasets:inspect': z
    .object({
      path: z.string().min(1, 'path: give a data file').max(4096),
      format: LlmConfigSchema.shape.dataFormat,
      preference: LlmConfigSchema.shape.preference,
      /** a model folder, to count tokens as training will */
      model: z.string().max(4096).optional(),
      maxLength: z.number().int().min(8).max(32_768).default(512),
      limit: z.number().int().min(0).max(1000).default(20),
    })
    .strict(),
  /** Sequence log-probs of every pair in a file under a model, exactly as training computes them. */
  'llm:logps': z
    .object({
      model: z.string().min(1).max(4096),
      /** a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) to load on top of the model */
      adapter: z.string().min(1).max(4096).optional(),
      data: z.string().min(1).max(4096),
      format: LlmConfigSchema.shape.dataFormat,
      preference: LlmConfigSchema.shape.preference,
      promptFormat: LlmConfigSchema.shape.promptFormat,
      maxLength: z.number().int().min(8).max(32_768).default(512),
      batchSize: z.number().int().min(1).max(256).default(4),
    })
    .strict(),
  /** Scores of {prompt, response} rows under a reward or cost model folder (*ForSequenceClassification). */
  'llm:score': z
    .object({
      scorer: z.string().min(1, 'scorer: give a scorer folder').max(4096),
      data: z.string().min(1, 'data: give a JSONL file of {prompt, response} rows').max(4096),
      batchSize: z.number().int().min(1).max(256).default(8),
    })
    .strict(),
  'runs:cancel': z.object({ id: RunId }).strict(),
  'runs:delete': z.object({ id: RunId }).strict(),
  'runs:update': z
    .object({
      id: RunId,
      name: z.string().min(1).max(200).optional(),
      tags: z.array(z.string().min(1).max(50)).max(20).optional(),
      notes: z.string().max(20_000).optional(),
    })
    .strict(),
  'runs:metrics': z
    .object({
      id: RunId,
      names: z.array(z.string().max(200)).max(LIMITS.metricNames, `names: at most ${LIMITS.metricNames} metric names per request`).optional(),
      afterStep: z.number().int().optional(),
    })
    .strict(),
  'runs:snapshots': z.object({ id: RunId, name: z.string().default('probs'), afterStep: z.number().int().optional() }).strict(),
  'runs:exportCsv': z
    .object({
      // repeated ids count once: the bound is on distinct runs
      ids: z
        .array(RunId)
        .min(1, 'ids: give at least one run id')
        .transform((ids) => [...new Set(ids)])
        .refine((ids) => ids.length <= LIMITS.exportRuns, `ids: at most ${LIMITS.exportRuns} runs per export`),
    })
    .strict(),
  'runs:dataset': z.object({ id: RunId }).strict(),
  'runs:datasetFile': z.object({ id: RunId }).strict(),
  'runs:log': z.object({ id: RunId }).strict(),
  'table:exportCsv': z
    .object({
      filename: z.string().max(200).default('table.csv'),
      header: z.array(z.string()).min(1),
      rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
    })
    .strict()
    .superRefine((t, ctx) => {
      t.rows.forEach((r, i) => {
        if (r.length !== t.header.length)
          ctx.addIssue({ code: 'custom', path: ['rows', i], message: `has ${r.length} cells but the header has ${t.header.length}` });
      });
    }),
  'theory:compute': TheoryInputSchema,
  'loss:inspect': LossInspectInputSchema,
  'sweeps:list': Empty,
  'sweeps:get': z.object({ id: RunId }).strict(),
  'sweeps:start': SweepStartSchema,
  'sweeps:cancel': z.object({ id: RunId }).strict(),
  /** The Table 1 report of finished sweeps: one self-contained HTML file, or Markdown with its SVG and CSV files. */
  'sweeps:report': ReportInputSchema,
  /** Evaluates a run's model (or a model folder) on prompts: generation, reward/cost scoring, Help/Harm/S.R./win rate. */
  'evals:start': EvalStartSchema,
  'evals:list': z.object({ runId: RunId.optional(), benchId: RunId.optional() }).strict().default({}),
  'evals:get': z.object({ id: RunId }).strict(),
  'evals:responses': z.object({ id: RunId, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
  /** The results table (one row per evaluation, every number with its standard error) as CSV; all finished ones by default. */
  'evals:exportCsv': z
    .object({ ids: z.array(RunId).min(1).max(LIMITS.exportRuns).optional() })
    .strict()
    .default({}),
  'evals:cancel': z.object({ id: RunId }).strict(),
  'evals:delete': z.object({ id: RunId }).strict(),
  /** Significance across seeds: per-group t-intervals of a final metric, Welch's t-tests between groups, Holm-corrected. */
  'stats:compute': StatsInputSchema,
  /** Trains a reward or cost model from a causal LM folder on a preference file, in a worker process. */
  'scorers:train': ScorerTrainSchema,
  'scorers:list': Empty,
  'scorers:get': z.object({ id: RunId }).strict(),
  'scorers:cancel': z.object({ id: RunId }).strict(),
  /** Runs the safety-tiny benchmark (SFT → scorers → every loss → evaluation) as a session in a worker process. */
  'benches:start': BenchStartSchema,
  'benches:list': Empty,
  'benches:get': z.object({ id: RunId }).strict(),
  'benches:cancel': z.object({ id: RunId }).strict(),
  /** An experiment bundle (one gzipped JSON file) of a run or a sweep: configs, datasets or fingerprints, metrics. */
  'bundles:export': BundleExportInputSchema,
  /** Loads a bundle file (base64) with new ids; the same bundle twice is recognised and not added again. */
  'bundles:import': BundleImportInputSchema,
  /** Trains a run's config again as a new run (an LLM run only if its model and data match its fingerprints). */
  'runs:rerun': RerunInputSchema,
  /** Which run a run repeats, and its reruns. */
  'runs:reruns': z.object({ id: RunId }).strict(),
  /** Custom losses saved from the Losses view, oldest first. */
  'losses:listCustom': Empty,
  /** Saves a named loss formula; a formula that does not parse is refused with the character it fails at. */
  'losses:saveCustom': CustomLossSaveSchema,
  'losses:deleteCustom': z.object({ id: RunId }).strict(),
} as const;

export type CommandName = keyof typeof commandInputs;
export const COMMAND_NAMES = Object.keys(commandInputs) as CommandName[];

export interface RunDatasetInfo {
  K: number;
  alpha: number;
  /** masked (never-trained) cells as [prompt, response] */
  mask: [number, number][];
  pairs: number;
  /** training pairs per prompt */
  pairsPerPrompt: number[];
}

export interface AppInfo {
  version: string;
  dbPath: string;
  mode: 'electron' | 'web' | 'cli';
  backendPreference: string;
  /** The backend label the most recent run reported (e.g. "wasm (SIMD, 1 thread)"), if any ran in this session. */
  backendLabel: string | null;
  runningCount: number;
}

export interface CommandOutputs {
  'app:info': AppInfo;
  'runs:list': RunSummary[];
  'runs:get': RunDetail;
  'runs:start': { runIds: number[] };
  'runs:resume': { runIds: number[] };
  'runs:exportModel': ModelExportResult;
  'runs:exportTrl': TrlExportResult;
  'runs:importTrl': TrlImportResult;
  'models:inspect': ModelInspection;
  'datasets:inspect': DatasetInspection;
  'llm:logps': LogpsResult;
  'llm:score': ScoreResult;
  'runs:cancel': { ok: boolean };
  'runs:delete': { ok: boolean };
  'runs:update': RunDetail;
  'runs:metrics': Record<string, Series>;
  'runs:snapshots': { steps: number[]; frames: number[][][] };
  'runs:exportCsv': { filename: string; csv: string };
  /** The synthetic dataset a run trained on (null until the worker has made it). */
  'runs:dataset': RunDatasetInfo | null;
  /** The dataset file a run trained on (synthetic.md format), to train another run or implementation on it. */
  'runs:datasetFile': { filename: string; content: string } | null;
  /** The run's log: lifecycle, backend choice and why, errors. */
  'runs:log': { lines: LogLine[] };
  'table:exportCsv': { filename: string; csv: string };
  'theory:compute': TheoryResult;
  /** Per-pair losses and ∂L/∂logp for each requested loss, keyed by loss name. */
  'loss:inspect': Record<string, LossInspectResult>;
  'sweeps:list': SweepRecord[];
  'sweeps:get': SweepRecord;
  'sweeps:start': { sweepId: number; runIds: number[] };
  'sweeps:cancel': { ok: boolean; cancelled: number };
  'sweeps:report': ReportOutput;
  'evals:start': { evalId: number };
  'evals:list': EvalRecord[];
  'evals:get': EvalRecord;
  'evals:responses': { total: number; rows: EvalResponseRow[] };
  'evals:exportCsv': { filename: string; csv: string };
  'evals:cancel': { ok: boolean };
  'evals:delete': { ok: boolean };
  'stats:compute': StatsResult;
  'scorers:train': { scorerId: number };
  'scorers:list': ScorerRecord[];
  'scorers:get': ScorerRecord;
  'scorers:cancel': { ok: boolean };
  'benches:start': { benchId: number };
  'benches:list': BenchRecord[];
  'benches:get': BenchRecord;
  'benches:cancel': { ok: boolean };
  'bundles:export': BundleExportResult;
  'bundles:import': BundleImportResult;
  'runs:rerun': RerunResult;
  'runs:reruns': { sourceRunId: number | null; reruns: number[] };
  'losses:listCustom': CustomLossRecord[];
  'losses:saveCustom': CustomLossRecord;
  'losses:deleteCustom': { ok: boolean };
}

export type CommandInput<C extends CommandName> = z.input<(typeof commandInputs)[C]>;
export type CommandParsed<C extends CommandName> = z.output<(typeof commandInputs)[C]>;

/** What every front door gives the renderer: one async function per command. */
export type LabApi = { [C in CommandName]: (input: CommandInput<C>) => Promise<CommandOutputs[C]> };

/** Validates a command's input against its schema, throwing a LabError that names each bad field. */
export function parseInput<C extends CommandName>(command: C, raw: unknown): CommandParsed<C> {
  const schema = commandInputs[command] as unknown as z.ZodType<CommandParsed<C>>;
  const res = schema.safeParse(raw ?? {});
  if (!res.success) {
    const issues = issuesFromZod(res.error);
    throw new LabError('invalid_input', formatIssues(issues), issues);
  }
  return res.data;
}

export function isCommandName(s: string): s is CommandName {
  return Object.prototype.hasOwnProperty.call(commandInputs, s);
}

// The preload's copy of the names must match the contract exactly, in both directions.
type ListedName = (typeof COMMAND_NAME_LIST)[number];
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const commandNamesAgree: Exact<ListedName, CommandName> = true;
