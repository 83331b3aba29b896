import type { LabStore } from '../store';
import { storeError } from '../store/failures';
import type { BackendPreference } from '@shared/backends';
import type { LabEvent } from '@shared/events';
import type { ScorerResult, ScorerTrain } from '@shared/scorers';
import type { FromWorker, WorkerHandle, WorkerLauncher } from './protocol';

interface Pending {
  scorerId: number;
  spec: ScorerTrain;
  worker?: WorkerHandle;
  cancelled: boolean;
  killTimer?: NodeJS.Timeout;
  done: Promise<void>;
  resolve: () => void;
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/**
 * Trains scorers one at a time, each in a worker process of its own (a model and its optimizer state in memory,
 * never on the API's thread), and stores what they report. Independent of the run and evaluation queues.
 */
export class ScorerRunner {
  private readonly queue: Pending[] = [];
  private active: Pending | null = null;
  private closed = false;
  private readonly ended = new Set<number>();

  constructor(
    private readonly store: LabStore,
    private readonly launch: WorkerLauncher,
    private readonly publish: (e: LabEvent) => void,
    private readonly opts: { backend: BackendPreference; cancelGraceMs?: number },
  ) {}

  enqueue(scorerId: number, spec: ScorerTrain): Promise<void> {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.queue.push({ scorerId, spec, cancelled: false, done, resolve });
    this.publish({ type: 'scorer:status', scorerId, status: 'queued' });
    this.pump();
    return done;
  }

  /** Resolves when the training has ended (at once if this runner does not hold it). */
  settled(scorerId: number): Promise<void> {
    const p = this.active?.scorerId === scorerId ? this.active : this.queue.find((q) => q.scorerId === scorerId);
    return p?.done ?? Promise.resolve();
  }

  cancel(scorerId: number): boolean {
    const i = this.queue.findIndex((q) => q.scorerId === scorerId);
    if (i >= 0) {
      const [p] = this.queue.splice(i, 1);
      this.end(p, 'cancelled');
      return true;
    }
    const a = this.active;
    if (!a || a.scorerId !== scorerId) return false;
    a.cancelled = true;
    a.worker?.send({ type: 'cancel', runId: null });
    // training holds the worker's thread between steps: it cannot read the message
    a.killTimer ??= setTimeout(() => a.worker?.kill('SIGKILL'), this.opts.cancelGraceMs ?? 1000);
    return true;
  }

  /** The lab is closing: what is queued or running fails, saying why. */
  shutdown(reason = 'the lab was closed while the scorer was training'): void {
    this.closed = true;
    for (const p of this.queue.splice(0)) this.end(p, 'failed', reason);
    const a = this.active;
    if (a) {
      this.end(a, 'failed', reason);
      a.worker?.kill('SIGKILL');
    }
  }

  private pump(): void {
    if (this.active || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    this.active = next;
    this.start(next);
  }

  private start(p: Pending): void {
    let worker: WorkerHandle;
    try {
      worker = this.launch();
    } catch (err) {
      this.end(p, 'failed', `could not start a worker: ${(err as Error).message}`);
      return;
    }
    p.worker = worker;
    worker.onMessage((msg) => {
      try {
        this.handle(p, msg);
      } catch (err) {
        this.end(p, 'failed', storeError(err, this.store.file)?.message ?? `could not record the training: ${(err as Error).message}`);
        worker.kill('SIGKILL');
      }
    });
    worker.onExit((code, signal) => {
      if (p.cancelled) this.end(p, 'cancelled');
      else if (worker.ranOutOfMemory?.()) this.end(p, 'failed', 'the worker ran out of memory; try a smaller --max-length or batch size');
      else this.end(p, 'failed', `worker process ${signal ? `was killed (${signal})` : `exited with code ${code}`} before the training finished`);
    });
    worker.send({ type: 'start', job: { kind: 'scorer', backend: this.opts.backend, scorerId: p.scorerId, spec: p.spec } });
  }

  private handle(p: Pending, msg: FromWorker): void {
    switch (msg.type) {
      case 'hello':
        this.store.scorers.markRunning(p.scorerId);
        this.store.scorers.log(p.scorerId, `worker ${msg.pid} started; backend ${msg.backend.label}`);
        this.publish({ type: 'scorer:status', scorerId: p.scorerId, status: 'running' });
        return;
      case 'scorerProgress':
        this.publish({ type: 'scorer:progress', scorerId: p.scorerId, step: msg.step, steps: msg.steps, loss: msg.loss });
        return;
      case 'scorerLog':
        this.store.scorers.log(p.scorerId, msg.text);
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

  private end(p: Pending, status: 'done' | 'failed' | 'cancelled', error?: string, result?: ScorerResult): void {
    if (this.ended.has(p.scorerId)) return;
    this.ended.add(p.scorerId);
    if (p.killTimer) clearTimeout(p.killTimer);
    try {
      this.store.scorers.finish(p.scorerId, status, { error, result });
      this.store.scorers.log(
        p.scorerId,
        status === 'done' && result
          ? `done in ${result.seconds.toFixed(1)} s: held-out accuracy ${pct(result.accuracy)}${p.spec.kind === 'cost' ? `, sign accuracy ${pct(result.signAccuracy)}` : ''} on ${result.evalPairs} pairs; final loss ${result.finalLoss.toFixed(4)}`
          : `${status}${error ? `: ${error}` : ''}`,
      );
    } catch (err) {
      console.error(`scorer training ${p.scorerId} ended ${status}, but that could not be saved: ${(err as Error).message}`);
    }
    this.publish({ type: 'scorer:status', scorerId: p.scorerId, status, error });
    p.resolve();
    if (this.active === p) {
      this.active = null;
      p.worker?.kill('SIGTERM');
      this.pump();
    }
  }
}
