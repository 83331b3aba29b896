import type { LabEvent } from '@shared/events';
import { benchProgressText, type BenchResult } from '@shared/bench';
import type { BenchJob, FromWorker, WorkerJob } from './protocol';
import { WorkerJobQueue, type JobEnd, type JobStatus, type QueuedJob } from './worker-job-queue';
import { recordBenchRow } from './bench-record';

type Pending = QueuedJob<BenchJob['spec']>;

/**
 * Runs benchmark sessions one at a time, each in a worker process of its own (a session trains and evaluates
 * several models), and stores what they send: the stage, the log, each row of the grid as an evaluation of the
 * session as soon as it is scored, then the grid. Independent of the run, evaluation and scorer queues.
 */
export class BenchRunner extends WorkerJobQueue<BenchJob['spec'], BenchResult> {
  protected readonly noun = 'benchmark';
  // training holds the worker's thread inside a stage: a cancel is read between stages, else the kill ends it
  protected readonly defaultCancelGraceMs = 3000;
  protected override readonly oomMessage = 'the worker ran out of memory during the benchmark';

  protected job(p: Pending): WorkerJob {
    return { kind: 'bench', backend: this.opts.backend, benchId: p.id, spec: p.spec };
  }

  protected statusEvent(benchId: number, status: JobStatus, error?: string): LabEvent {
    return { type: 'bench:status', benchId, status, error };
  }

  protected handle(p: Pending, msg: FromWorker): void {
    switch (msg.type) {
      case 'hello':
        this.store.benches.markRunning(p.id);
        this.log(p.id, `worker ${msg.pid} started; backend ${msg.backend.label}; work folder ${p.spec.workDir}`);
        this.publish({ type: 'bench:status', benchId: p.id, status: 'running' });
        return;
      case 'benchProgress':
        this.store.benches.setProgress(p.id, msg.progress);
        this.log(p.id, benchProgressText(msg.progress));
        this.publish({ type: 'bench:progress', benchId: p.id, progress: msg.progress });
        return;
      case 'benchLog':
        this.log(p.id, msg.text);
        return;
      case 'benchRow': {
        const evalId = recordBenchRow(this.store, p.id, msg.evaluation);
        this.publish({ type: 'eval:status', evalId, status: 'done' });
        return;
      }
      case 'benchDone':
        this.end(p, 'done', undefined, msg.result);
        return;
      case 'benchFailed':
        this.end(p, msg.cancelled || p.cancelled ? 'cancelled' : 'failed', msg.cancelled || p.cancelled ? undefined : msg.error);
        return;
      default:
        return;
    }
  }

  /** A line of the session's log, stored and said (the CLI prints them as they come). */
  private log(benchId: number, text: string): void {
    this.store.benches.log(benchId, text);
    this.publish({ type: 'bench:log', benchId, text });
  }

  protected record(p: Pending, status: JobEnd, error?: string, result?: BenchResult): void {
    this.store.benches.finish(p.id, status, { error, result });
    this.log(
      p.id,
      status === 'done' && result ? `done in ${result.seconds.toFixed(0)} s: ${result.rows.length} rows` : `${status}${error ? `: ${error}` : ''}`,
    );
  }
}
