import type { LabEvent } from '@shared/events';
import type { EvalJobSpec } from '../engine/llm/evaluate';
import type { FromWorker, WorkerJob } from './protocol';
import { WorkerJobQueue, type JobEnd, type JobStatus, type QueuedJob } from './worker-job-queue';

type Pending = QueuedJob<EvalJobSpec>;
type EvalDone = Extract<FromWorker, { type: 'evalDone' }>;

/**
 * Runs evaluations one at a time, each in a worker process of its own (generation holds a model or two in memory),
 * and stores what they send. Independent of the run queue: evaluating a finished run need not wait for training.
 */
export class EvalRunner extends WorkerJobQueue<EvalJobSpec, EvalDone> {
  protected readonly noun = 'evaluation';
  protected readonly defaultCancelGraceMs = 3000;

  protected job(p: Pending): WorkerJob {
    return { kind: 'eval', backend: this.opts.backend, evalId: p.id, spec: p.spec };
  }

  protected statusEvent(evalId: number, status: JobStatus, error?: string): LabEvent {
    return { type: 'eval:status', evalId, status, error };
  }

  protected handle(p: Pending, msg: FromWorker): void {
    switch (msg.type) {
      case 'hello':
        this.store.evals.markRunning(p.id);
        this.note(p.id, `worker ${msg.pid} started; backend ${msg.backend.label}`);
        this.publish({ type: 'eval:status', evalId: p.id, status: 'running' });
        return;
      case 'evalProgress':
        this.publish({ type: 'eval:progress', evalId: p.id, done: msg.done, total: msg.total });
        return;
      case 'evalLog':
        this.note(p.id, msg.text);
        return;
      case 'evalDone':
        this.end(p, 'done', undefined, msg);
        return;
      case 'evalFailed':
        this.end(p, msg.cancelled || p.cancelled ? 'cancelled' : 'failed', msg.cancelled ? undefined : msg.error);
        return;
      default:
        return;
    }
  }

  /** An evaluation of a run writes its lifecycle into that run's log. */
  private note(evalId: number, text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    const runId = this.store.evals.get(evalId)?.runId;
    if (runId == null) return;
    const line = this.store.runs.log(runId, level, `eval ${evalId}: ${text}`);
    this.publish({ type: 'run:log', runId, ...line });
  }

  protected record(p: Pending, status: JobEnd, error?: string, result?: EvalDone): void {
    this.store.evals.finish(p.id, status, { error, summary: result?.summary, responses: result?.responses });
    const s = result?.summary;
    const fmt = (x: { mean: number } | null | undefined) => (x ? x.mean.toFixed(4) : '—');
    this.note(
      p.id,
      status === 'done'
        ? `done: Help ${fmt(s?.help)}, Harm ${fmt(s?.harm)}, S.R. ${fmt(s?.sr)}, win rate ${fmt(s?.winRate)}`
        : `${status}${error ? `: ${error}` : ''}`,
      status === 'failed' ? 'error' : 'info',
    );
  }
}
