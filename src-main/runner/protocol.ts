import type { BackendInfo, BackendPreference } from '../engine/backend';
import type { SyntheticConfig } from '@shared/synthetic-config';
import type { LlmConfig } from '@shared/llm-config';
import type { MetricBatch } from '../store/metrics';
import type { EvalJobSpec } from '../engine/llm/evaluate';
import type { EvalResponseRow, EvalSummary } from '@shared/eval';
import type { ScorerResult, ScorerTrain } from '@shared/scorers';
import type { BenchProgress, BenchResult, BenchStart } from '@shared/bench';
import type { SafetyTinyEvaluation } from '../engine/llm/bench/safety-tiny';

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
/** One evaluation (generation + scoring) in a worker of its own; its messages carry the evaluation's id. */
export interface EvalJob {
  kind: 'eval';
  backend: BackendPreference;
  evalId: number;
  spec: EvalJobSpec;
}
/** One scorer training (a reward or cost model) in a worker of its own; its messages carry the training's id. */
export interface ScorerJob {
  kind: 'scorer';
  backend: BackendPreference;
  scorerId: number;
  spec: ScorerTrain;
}
/** One benchmark session (the whole safety-tiny pipeline) in a worker of its own; its messages carry the session's id. */
export interface BenchJob {
  kind: 'bench';
  backend: BackendPreference;
  benchId: number;
  spec: { settings: BenchStart; workDir: string };
}
export type Job = SyntheticJob | LlmJob;
/** Anything a worker can be started with: a run job (the manager's), an evaluation, a scorer training, a benchmark. */
export type WorkerJob = Job | EvalJob | ScorerJob | BenchJob;

export type ToWorker = { type: 'start'; job: WorkerJob } | { type: 'cancel'; runId: number | null };

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
  | { type: 'evalProgress'; evalId: number; done: number; total: number }
  | { type: 'evalLog'; evalId: number; text: string }
  | { type: 'evalDone'; evalId: number; summary: EvalSummary; responses: EvalResponseRow[] }
  | { type: 'evalFailed'; evalId: number; error: string; cancelled: boolean }
  | { type: 'scorerProgress'; scorerId: number; step: number; steps: number; loss: number }
  | { type: 'scorerLog'; scorerId: number; text: string }
  | { type: 'scorerDone'; scorerId: number; result: ScorerResult }
  | { type: 'scorerFailed'; scorerId: number; error: string }
  | { type: 'benchProgress'; benchId: number; progress: BenchProgress }
  | { type: 'benchLog'; benchId: number; text: string }
  | { type: 'benchRow'; benchId: number; evaluation: SafetyTinyEvaluation }
  | { type: 'benchDone'; benchId: number; result: BenchResult }
  | { type: 'benchFailed'; benchId: number; error: string; cancelled: boolean }
  | { type: 'jobDone' };

/** The two ends the manager needs from a worker process, whatever started it (child_process or utilityProcess). */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(msg: ToWorker): void;
  onMessage(cb: (msg: FromWorker) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
  /**
   * Whether the process said it ran out of memory (V8's heap-limit message on its stderr) before it exited.
   * Launchers that cannot read the worker's stderr leave it out.
   */
  ranOutOfMemory?(): boolean;
}

export type WorkerLauncher = () => WorkerHandle;
