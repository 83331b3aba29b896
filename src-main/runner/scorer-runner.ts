import type { LabEvent } from '@shared/events';
import type { ScorerResult, ScorerTrain } from '@shared/scorers';
import type { FromWorker, WorkerJob } from './protocol';
import { WorkerJobQueue, type JobEnd, type JobStatus, type QueuedJob } from './worker-job-queue';

type Pending = QueuedJob<ScorerTrain>;

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/**
 * Trains scorers one at a time, each in a worker process of its own (a model and its optimizer state in memory,
 * never on the API's thread), and stores what they report. Independent of the run and evaluation queues.
 */
export class ScorerRunner extends WorkerJobQueue<ScorerTrain, ScorerResult> {
  protected readonly noun = 'training';
  // training holds the worker's thread between steps: it cannot read a cancel message
  protected readonly defaultCancelGraceMs = 1000;
  protected override readonly oomMessage = 'the worker ran out of memory; try a smaller --max-length or batch size';

  override shutdown(reason = 'the lab was closed while the scorer was training'): void {
    super.shutdown(reason);
  }

  protected job(p: Pending): WorkerJob {
    return { kind: 'scorer', backend: this.opts.backend, scorerId: p.id, spec: p.spec };
  }

  protected statusEvent(scorerId: number, status: JobStatus, error?: string): LabEvent {
    return { type: 'scorer:status', scorerId, status, error };
  }

  protected handle(p: Pending, msg: FromWorker): void {
    switch (msg.type) {
      case 'hello':
        this.store.scorers.markRunning(p.id);
        this.store.scorers.log(p.id, `worker ${msg.pid} started; backend ${msg.backend.label}`);
        this.publish({ type: 'scorer:status', scorerId: p.id, status: 'running' });
        return;
      case 'scorerProgress':
        this.publish({ type: 'scorer:progress', scorerId: p.id, step: msg.step, steps: msg.steps, loss: msg.loss });
        return;
      case 'scorerLog':
        this.store.scorers.log(p.id, msg.text);
        return;
      case 'scorerDone':
        this.end(p, 'done', undefined, msg.result);
        return;
      case 'scorerFailed':
        this.end(p, p.cancelled ? 'cancelled' : 'failed', p.cancelled ? undefined : msg.error);
        return;
      default:
        return;
    }
  }

  protected record(p: Pending, status: JobEnd, error?: string, result?: ScorerResult): void {
    this.store.scorers.finish(p.id, status, { error, result });
    this.store.scorers.log(
      p.id,
      status === 'done' && result
        ? `done in ${result.seconds.toFixed(1)} s: held-out accuracy ${pct(result.accuracy)}${p.spec.kind === 'cost' ? `, sign accuracy ${pct(result.signAccuracy)}` : ''} on ${result.evalPairs} pairs; final loss ${result.finalLoss.toFixed(4)}`
        : `${status}${error ? `: ${error}` : ''}`,
    );
  }
}
