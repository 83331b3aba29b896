/**
 * What the API says about runs: statuses, kinds, summaries and log lines. The store maps its rows to these;
 * the renderer, the CLI and the server read nothing else.
 */
export const RUN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_KINDS = ['synthetic', 'llm', 'trl'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export interface RunSummary {
  id: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  /** The loss the run trains with, lifted out of its config for lists and filters. */
  loss: string | null;
  config: Record<string, unknown>;
  seed: number | null;
  sweepId: number | null;
  tags: string[];
  final: Record<string, number> | null;
  error: string | null;
  backend: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RunDetail extends RunSummary {
  versions: Record<string, string> | null;
  notes: string;
  metricNames: string[];
  snapshotNames: string[];
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogLine {
  ts: number;
  level: LogLevel;
  text: string;
}

/** Columns of the long-format metrics CSV (CLI export, runs:exportCsv). */
export const METRICS_CSV_HEADER = ['run_id', 'step', 'name', 'value'] as const;

/** One metric's values in step order (null where a step logged a non-finite value). */
export interface Series {
  steps: number[];
  values: (number | null)[];
}

export const SWEEP_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

export interface SweepRecord {
  id: number;
  name: string;
  preset: string | null;
  config: Record<string, unknown>;
  status: SweepStatus;
  summary: unknown;
  createdAt: number;
  finishedAt: number | null;
  runIds: number[];
}
