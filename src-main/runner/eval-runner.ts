import type { LabStore } from '../store';
import { storeError } from '../store/failures';
import type { BackendPreference } from '@shared/backends';
import type { LabEvent } from '@shared/events';
import type { EvalJobSpec } from '../engine/llm/evaluate';
import type { FromWorker, WorkerHandle, WorkerLauncher } from './protocol';

interface Pending {
  evalId: number;
  spec: EvalJobSpec;
  worker?: WorkerHandle;
  cancelled: boolean;
  killTimer?: NodeJS.Timeout;
  done: Promise<void>;
  resolve: () => void;
}

/**
 * Runs evaluations one at a time, each in a worker process of its own (generation holds a model or two in memory),
 * and stores what they send. Independent of the run queue: evaluating a finished run need not wait for training.
 */
export class EvalRunner {
  private readonly queue: Pending[] = [];
  private active: Pending | null = null;
  private closed = false;

  constructor(
    private readonly store: LabStore,
    private readonly launch: WorkerLauncher,
    private readonly publish: (e: LabEvent) => void,
    private readonly opts: { backend: BackendPreference; cancelGraceMs?: number },
  ) {}

  enqueue(evalId: number, spec: EvalJobSpec): Promise<void> {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.queue.push({ evalId, spec, cancelled: false, done, resolve });
    this.publish({ type: 'eval:status', evalId, status: 'queued' });
    this.pump();
    return done;
  }

  /** Resolves when the evaluation has ended (at once if this runner does not hold it). */
  settled(evalId: number): Promise<void> {
    const p = this.active?.evalId === evalId ? this.active : this.queue.find((q) => q.evalId === evalId);
    return p?.done ?? Promise.resolve();
  }

  holds(evalId: number): boolean {
    return this.active?.evalId === evalId || this.queue.some((q) => q.evalId === evalId);
  }

  cancel(evalId: number): boolean {
    const i = this.queue.findIndex((q) => q.evalId === evalId);
    if (i >= 0) {
      const [p] = this.queue.splice(i, 1);
      this.end(p, 'cancelled');
      return true;
    }
    const a = this.active;
    if (!a || a.evalId !== evalId) return false;
    a.cancelled = true;
    a.worker?.send({ type: 'cancel', runId: null });
    // a worker inside a long kernel cannot read messages
    a.killTimer ??= setTimeout(() => a.worker?.kill('SIGKILL'), this.opts.cancelGraceMs ?? 3000);
    return true;
  }

  /** The lab is closing: what is queued or running fails, saying why. */
  shutdown(reason = 'the lab was closed while the evaluation was in progress'): void {
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
        this.end(p, 'failed', storeError(err, this.store.file)?.message ?? `could not record the evaluation: ${(err as Error).message}`);
        worker.kill('SIGKILL');
      }
    });
    worker.onExit((code, signal) => {
      if (p.cancelled) this.end(p, 'cancelled');
      else this.end(p, 'failed', `worker process ${signal ? `was killed (${signal})` : `exited with code ${code}`} before the evaluation finished`);
    });
    worker.send({ type: 'start', job: { kind: 'eval', backend: this.opts.backend, evalId: p.evalId, spec: p.spec } });
  }

  private handle(p: Pending, msg: FromWorker): void {
    switch (msg.type) {
      case 'hello':
        this.store.evals.markRunning(p.evalId);
        this.note(p.evalId, `worker ${msg.pid} started; backend ${msg.backend.label}`);
        this.publish({ type: 'eval:status', evalId: p.evalId, status: 'running' });
        return;
      case 'evalProgress':
        this.publish({ type: 'eval:progress', evalId: p.evalId, done: msg.done, total: msg.total });
        return;
      case 'evalLog':
        this.note(p.evalId, msg.text);
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

  private ended = new Set<number>();
  private end(p: Pending, status: 'done' | 'failed' | 'cancelled', error?: string, result?: Extract<FromWorker, { type: 'evalDone' }>): void {
    if (this.ended.has(p.evalId)) return;
    this.ended.add(p.evalId);
    if (p.killTimer) clearTimeout(p.killTimer);
    try {
      this.store.evals.finish(p.evalId, status, { error, summary: result?.summary, responses: result?.responses });
      const s = result?.summary;
      const fmt = (x: { mean: number } | null | undefined) => (x ? x.mean.toFixed(4) : '—');
      this.note(
        p.evalId,
        status === 'done'
          ? `done: Help ${fmt(s?.help)}, Harm ${fmt(s?.harm)}, S.R. ${fmt(s?.sr)}, win rate ${fmt(s?.winRate)}`
          : `${status}${error ? `: ${error}` : ''}`,
        status === 'failed' ? 'error' : 'info',
      );
    } catch (err) {
      console.error(`evaluation ${p.evalId} ended ${status}, but that could not be saved: ${(err as Error).message}`);
    }
    this.publish({ type: 'eval:status', evalId: p.evalId, status, error });
    p.resolve();
    if (this.active === p) {
      this.active = null;
      p.worker?.kill('SIGTERM');
      this.pump();
    }
  }
}
