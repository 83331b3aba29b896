import type { LogLevel, RunStatus } from './runs';
import type { EvalStatus } from './eval';
import type { ScorerStatus } from './scorers';
import type { BenchProgress, BenchStatus } from './bench';

/** Everything a window (IPC), a browser (SSE) or the CLI hears about runs as they happen. */
export type LabEvent =
  | { type: 'run:status'; runId: number; status: RunStatus; error?: string; backend?: string }
  | { type: 'run:metrics'; runId: number; steps: number[]; names: string[]; nameIdx: number[]; values: (number | null)[] }
  | { type: 'run:snapshot'; runId: number; step: number; name: string }
  | { type: 'run:progress'; runId: number; done: number; total: number; etaSeconds: number | null }
  | { type: 'run:log'; runId: number; ts: number; level: LogLevel; text: string }
  | { type: 'run:artifact'; runId: number; kind: string }
  | { type: 'run:deleted'; runId: number }
  | { type: 'sweep:status'; sweepId: number; status: string }
  | { type: 'eval:status'; evalId: number; status: EvalStatus; error?: string }
  | { type: 'eval:progress'; evalId: number; done: number; total: number }
  | { type: 'scorer:status'; scorerId: number; status: ScorerStatus; error?: string }
  | { type: 'scorer:progress'; scorerId: number; step: number; steps: number; loss: number }
  | { type: 'bench:status'; benchId: number; status: BenchStatus; error?: string }
  | { type: 'bench:progress'; benchId: number; progress: BenchProgress }
  | { type: 'bench:log'; benchId: number; text: string };
