import type { LabStore } from '../store';
import { storeError } from '../store/failures';
import type { BackendPreference } from '@shared/backends';
import type { LabEvent } from '@shared/events';
import type { FromWorker, WorkerHandle, WorkerJob, WorkerLauncher } from './protocol';

export interface QueuedJob<Spec> {
  id: number;
  spec: Spec;
  worker?: WorkerHandle;
  cancelled: boolean;
  killTimer?: NodeJS.Timeout;
  done: Promise<void>;
  resolve: () => void;
}

export type JobStatus = 'queued' | 'running' | JobEnd;
export type JobEnd = 'done' | 'failed' | 'cancelled';

/**
 * Jobs that run one at a time, each in a worker process of its own, apart from the run queue (evaluations, scorer
 * training). The queue, cancel (with a kill after a grace period: a worker inside a long kernel cannot read
 * messages), shutdown and the worker's lifecycle live here; what a job sends and how it is stored, in the subclass.
 */
export abstract class WorkerJobQueue<Spec, Result> {
  protected readonly queue: QueuedJob<Spec>[] = [];
  protected active: QueuedJob<Spec> | null = null;
  private closed = false;
  private readonly ended = new Set<number>();

  /** the job in messages, e.g. "evaluation" */
  protected abstract readonly noun: string;
  protected abstract readonly defaultCancelGraceMs: number;
  /** said when the worker dies of its heap limit; null: the generic exit message */
  protected readonly oomMessage: string | null = null;

  constructor(
    protected readonly store: LabStore,
    private readonly launch: WorkerLauncher,
    protected readonly publish: (e: LabEvent) => void,
    protected readonly opts: { backend: BackendPreference; cancelGraceMs?: number },
  ) {}

  protected abstract job(p: QueuedJob<Spec>): WorkerJob;
  protected abstract statusEvent(id: number, status: JobStatus, error?: string): LabEvent;
  /** one message of the worker; throwing fails the job (a store error is named as such) */
  protected abstract handle(p: QueuedJob<Spec>, msg: FromWorker): void;
  /** stores the outcome (may throw: the outcome is still published) */
  protected abstract record(p: QueuedJob<Spec>, status: JobEnd, error?: string, result?: Result): void;

  enqueue(id: number, spec: Spec): Promise<void> {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.queue.push({ id, spec, cancelled: false, done, resolve });
    this.publish(this.statusEvent(id, 'queued'));
    this.pump();
    return done;
  }

  /** Resolves when the job has ended (at once if this runner does not hold it). */
  settled(id: number): Promise<void> {
    const p = this.active?.id === id ? this.active : this.queue.find((q) => q.id === id);
    return p?.done ?? Promise.resolve();
  }

  holds(id: number): boolean {
    return this.active?.id === id || this.queue.some((q) => q.id === id);
  }

  cancel(id: number): boolean {
    const i = this.queue.findIndex((q) => q.id === id);
    if (i >= 0) {
      const [p] = this.queue.splice(i, 1);
      this.end(p, 'cancelled');
      return true;
    }
    const a = this.active;
    if (!a || a.id !== id) return false;
    a.cancelled = true;
    a.worker?.send({ type: 'cancel', runId: null });
    a.killTimer ??= setTimeout(() => a.worker?.kill('SIGKILL'), this.opts.cancelGraceMs ?? this.defaultCancelGraceMs);
    return true;
  }

  /** The lab is closing: what is queued or running fails, saying why. */
  shutdown(reason = `the lab was closed while the ${this.noun} was in progress`): void {
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

  private start(p: QueuedJob<Spec>): void {
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
        this.end(p, 'failed', storeError(err, this.store.file)?.message ?? `could not record the ${this.noun}: ${(err as Error).message}`);
        worker.kill('SIGKILL');
      }
    });
    worker.onExit((code, signal) => {
      if (p.cancelled) this.end(p, 'cancelled');
      else if (this.oomMessage && worker.ranOutOfMemory?.()) this.end(p, 'failed', this.oomMessage);
      else this.end(p, 'failed', `worker process ${signal ? `was killed (${signal})` : `exited with code ${code}`} before the ${this.noun} finished`);
    });
    worker.send({ type: 'start', job: this.job(p) });
  }

  protected end(p: QueuedJob<Spec>, status: JobEnd, error?: string, result?: Result): void {
    if (this.ended.has(p.id)) return;
    this.ended.add(p.id);
    if (p.killTimer) clearTimeout(p.killTimer);
    try {
      this.record(p, status, error, result);
    } catch (err) {
      console.error(`${this.noun} ${p.id} ended ${status}, but that could not be saved: ${(err as Error).message}`);
    }
    this.publish(this.statusEvent(p.id, status, error));
    p.resolve();
    if (this.active === p) {
      this.active = null;
      p.worker?.kill('SIGTERM');
      this.pump();
    }
  }
}
