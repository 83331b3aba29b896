import type { BackendInfo, BackendPreference } from '../engine/backend';
import type { SyntheticConfig } from '@shared/synthetic-config';
import type { LlmConfig } from '@shared/llm-config';
import type { MetricBatch } from '../store/metrics';

/** Work for one worker process: runs that share one batched tensor program. */
export interface SyntheticJob {
  kind: 'synthetic';
  backend: BackendPreference;
  runs: { runId: number; config: SyntheticConfig; dataset?: unknown }[];
}
/** One LLM run (a job of its own: it holds a model in memory). `resume` continues from its latest checkpoint. */
export interface LlmJob {
  kind: 'llm';
  backend: BackendPreference;
  runs: { runId: number; config: LlmConfig; runDir: string; resume: boolean; reference?: string; resumeAtMostStep?: number }[];
}
export type Job = SyntheticJob | LlmJob;

export type ToWorker = { type: 'start'; job: Job } | { type: 'cancel'; runId: number | null };

export type FromWorker =
  | { type: 'hello'; pid: number; backend: BackendInfo }
  | { type: 'metrics'; runId: number; batch: MetricBatch }
  | { type: 'snapshot'; runId: number; step: number; name: string; data: number[][] }
  | { type: 'artifact'; runId: number; kind: string; name: string; content: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'runDone'; runId: number; final: Record<string, number> }
  | { type: 'runFailed'; runId: number; error: string }
  | { type: 'runCancelled'; runId: number }
  | { type: 'log'; runId: number; level: 'info' | 'warn' | 'error'; text: string }
  | { type: 'jobDone' };

/** The two ends the manager needs from a worker process, whatever started it (child_process or utilityProcess). */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(msg: ToWorker): void;
  onMessage(cb: (msg: FromWorker) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type WorkerLauncher = () => WorkerHandle;
