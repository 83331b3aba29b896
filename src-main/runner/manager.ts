import { EventEmitter } from 'node:events';
import type { LabStore } from '../store';
import { storeError } from '../store/failures';
import type { BackendPreference } from '@shared/backends';
import type { SyntheticConfig } from '@shared/synthetic-config';
import type { LabEvent } from '@shared/events';
import type { FromWorker, Job, LlmJob, WorkerHandle, WorkerLauncher } from './protocol';

interface JobState {
  id: number;
  job: Job;
  runIds: number[];
  open: Set<number>;
  worker?: WorkerHandle;
  startedAt?: number;
  cancelRequested: Set<number>;
  killTimer?: NodeJS.Timeout;
  done: Promise<void>;
  resolve: () => void;
}

export interface ManagerOptions {
  /** Jobs running at once; each is one worker process. */
  concurrency?: number;
  backend?: BackendPreference;
  /** How long a cancelled worker may take to stop before it is killed. */
  cancelGraceMs?: number;
}

const OUT_OF_MEMORY_ADVICE =
  '; train fewer or smaller runs at once (K, pairs per prompt, batch size), or give workers more memory with NODE_OPTIONS=--max-old-space-size=<MB>';

/**
 * Queues jobs, starts one worker process per job, commits what workers stream into the store as it arrives,
 * and turns a worker that dies into `failed` runs carrying the reason.
 */
export class RunManager {
  private readonly emitter = new EventEmitter();
  private readonly queue: JobState[] = [];
  private readonly active = new Set<JobState>();
  private nextId = 1;
  private readonly concurrency: number;
  private readonly backend: BackendPreference;
  private readonly cancelGraceMs: number;

  constructor(
    private readonly store: LabStore,
    private readonly launch: WorkerLauncher,
    opts: ManagerOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 1;
    this.backend = opts.backend ?? 'auto';
    this.cancelGraceMs = opts.cancelGraceMs ?? 3000;
    this.emitter.setMaxListeners(100);
  }

  onEvent(listener: (e: LabEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Lets other parts of the lab (sweeps) speak on the same event stream. */
  publish(e: LabEvent): void {
    this.emit(e);
  }

  /** Appends a line to a run's stored log and tells the subscribers. */
  private log(runId: number, level: 'info' | 'warn' | 'error', text: string): void {
    const line = this.store.runs.log(runId, level, text);
    this.emit({ type: 'run:log', runId, ...line });
  }

  /** Why a write of what a worker sent failed, for the run's error: "disk full: …" naming the file, say. */
  private recordFailure(err: unknown): string {
    return storeError(err, this.store.file)?.message ?? `could not record worker output: ${(err as Error).message}`;
  }

  private emit(e: LabEvent): void {
    this.emitter.emit('event', e);
  }

  /** Queues already-created runs as one synthetic job (one batched tensor program). */
  enqueueSynthetic(runs: { runId: number; config: SyntheticConfig; dataset?: unknown }[]): { jobId: number; done: Promise<void> } {
    return this.enqueue({ kind: 'synthetic', backend: this.backend, runs });
  }

  /** Queues one LLM run (new or resumed) as a job of its own. */
  enqueueLlm(run: LlmJob['runs'][number]): { jobId: number; done: Promise<void> } {
    return this.enqueue({ kind: 'llm', backend: this.backend, runs: [run] });
  }

  private enqueue(job: Job): { jobId: number; done: Promise<void> } {
    const runs = job.runs;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const state: JobState = {
      id: this.nextId++,
      job,
      runIds: runs.map((r) => r.runId),
      open: new Set(runs.map((r) => r.runId)),
      cancelRequested: new Set(),
      done,
      resolve,
    };
    this.queue.push(state);
    for (const id of state.runIds) {
      this.log(id, 'info', runs.length > 1 ? `queued with ${runs.length - 1} other run(s), trained side by side as one batched program` : 'queued');
      this.emit({ type: 'run:status', runId: id, status: 'queued' });
    }
    this.pump();
    return { jobId: state.id, done };
  }

  /** Process ids of the workers now running (diagnostics, and the crash tests). */
  workerPids(): number[] {
    return [...this.active].map((j) => j.worker?.pid).filter((p): p is number => typeof p === 'number');
  }

  get runningCount(): number {
    let n = 0;
    for (const j of this.active) n += j.open.size;
    return n;
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.queue.length || this.active.size) {
      await Promise.all([...this.queue, ...this.active].map((j) => j.done));
    }
  }

  cancel(runId: number): boolean {
    const queued = this.queue.find((j) => j.open.has(runId));
    if (queued) {
      const j = queued.job;
      if (j.kind === 'synthetic') j.runs = j.runs.filter((r) => r.runId !== runId);
      else j.runs = j.runs.filter((r) => r.runId !== runId);
      this.closeRun(queued, runId, 'cancelled');
      if (!queued.open.size) {
        this.queue.splice(this.queue.indexOf(queued), 1);
        queued.resolve();
      }
      return true;
    }
    const job = [...this.active].find((j) => j.open.has(runId));
    if (!job) return false;
    job.cancelRequested.add(runId);
    job.worker?.send({ type: 'cancel', runId });
    if (job.cancelRequested.size >= job.open.size && !job.killTimer) {
      // A worker stuck in a long kernel cannot read messages; don't let it hold the queue.
      job.killTimer = setTimeout(() => job.worker?.kill('SIGKILL'), this.cancelGraceMs);
    }
    return true;
  }

  /** Stops everything (app quitting): queued and running runs become failed with the reason. */
  shutdown(reason = 'the app was closed while the run was in progress'): void {
    for (const j of this.queue.splice(0)) {
      for (const id of [...j.open]) this.closeRun(j, id, 'failed', reason);
      j.resolve();
    }
    for (const j of this.active) {
      for (const id of [...j.open]) this.closeRun(j, id, 'failed', reason);
      j.worker?.kill('SIGKILL');
    }
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.queue.length) {
      const job = this.queue.shift()!;
      this.active.add(job);
      this.start(job);
    }
  }

  private start(job: JobState): void {
    job.startedAt = Date.now();
    let worker: WorkerHandle;
    try {
      worker = this.launch();
    } catch (err) {
      for (const id of [...job.open]) this.closeRun(job, id, 'failed', `could not start a worker: ${(err as Error).message}`);
      this.finishJob(job);
      return;
    }
    job.worker = worker;
    worker.onMessage((msg) => {
      try {
        this.handle(job, msg);
      } catch (err) {
        // A message we cannot store (a full disk, say) is a failure of the run, not of the app.
        const why = this.recordFailure(err);
        for (const id of [...job.open]) this.closeRun(job, id, 'failed', why);
        worker.kill('SIGKILL');
      }
    });
    worker.onExit((code, signal) => {
      const outOfMemory = worker.ranOutOfMemory?.() ?? false;
      const why = outOfMemory
        ? `out of memory: the worker process reached its JavaScript heap limit${signal ? ` (${signal})` : ''}`
        : signal
          ? `worker process was killed (${signal})`
          : `worker process exited with code ${code}`;
      for (const id of [...job.open]) {
        if (job.cancelRequested.has(id)) this.closeRun(job, id, 'cancelled');
        else this.closeRun(job, id, 'failed', `${why} before the run finished${outOfMemory ? OUT_OF_MEMORY_ADVICE : ''}`);
      }
      this.finishJob(job);
    });
    for (const c of job.cancelRequested) worker.send({ type: 'cancel', runId: c });
    worker.send({ type: 'start', job: job.job });
  }

  private finishJob(job: JobState): void {
    if (job.killTimer) clearTimeout(job.killTimer);
    if (!this.active.delete(job)) return;
    job.resolve();
    this.pump();
  }

  private closeRun(job: JobState, runId: number, status: 'done' | 'failed' | 'cancelled', error?: string, final?: Record<string, number>): void {
    if (!job.open.delete(runId)) return;
    const took = job.startedAt ? ` after ${((Date.now() - job.startedAt) / 1000).toFixed(1)} s` : '';
    // Called from worker callbacks and error handlers: a store failure here must not escape and crash the process
    // (a full disk or read-only file is already held in memory by the store; anything else is said on stderr).
    try {
      this.store.runs.finish(runId, status, { error, final });
      if (status === 'failed') this.log(runId, 'error', `failed${took}: ${error}`);
      else if (status === 'cancelled') this.log(runId, 'warn', `cancelled${took}`);
      else {
        const summary = Object.entries(final ?? {})
          .map(([k, v]) => `${k} ${Number(v).toFixed(4)}`)
          .join(', ');
        this.log(runId, 'info', `done${took}${summary ? `: ${summary}` : ''}`);
      }
    } catch (err) {
      console.error(`run ${runId} ended ${status}${error ? ` (${error})` : ''}, but that could not be saved: ${this.recordFailure(err)}`);
    }
    this.emit({ type: 'run:status', runId, status, error });
  }

  private handle(job: JobState, msg: FromWorker): void {
    const store = this.store;
    switch (msg.type) {
      case 'hello':
        for (const id of job.open) {
          this.log(id, 'info', `worker ${msg.pid} started; backend ${msg.backend.label}`);
          for (const note of msg.backend.notes) this.log(id, 'info', `backend: ${note}`);
          store.runs.markRunning(id, { backend: msg.backend.label, versions: msg.backend.versions });
          this.emit({ type: 'run:status', runId: id, status: 'running', backend: msg.backend.label });
        }
        return;
      case 'metrics': {
        if (!job.open.has(msg.runId)) return;
        store.metrics.append(msg.runId, msg.batch);
        const b = msg.batch;
        this.emit({
          type: 'run:metrics',
          runId: msg.runId,
          steps: Array.from(b.steps),
          names: [...b.names],
          nameIdx: Array.from(b.nameIdx),
          values: Array.from(b.values, (v) => (Number.isFinite(v) ? v : null)),
        });
        return;
      }
      case 'snapshot':
        if (!job.open.has(msg.runId)) return;
        store.metrics.appendSnapshot(msg.runId, msg.step, msg.name, msg.data);
        this.emit({ type: 'run:snapshot', runId: msg.runId, step: msg.step, name: msg.name });
        return;
      case 'artifact':
        if (!job.open.has(msg.runId)) return;
        store.artifacts.put(msg.runId, msg.kind, msg.name, msg.content);
        this.emit({ type: 'run:artifact', runId: msg.runId, kind: msg.kind });
        return;
      case 'progress': {
        const elapsed = (Date.now() - (job.startedAt ?? Date.now())) / 1000;
        const eta = msg.done > 0 ? (elapsed * (msg.total - msg.done)) / msg.done : null;
        for (const id of job.open) this.emit({ type: 'run:progress', runId: id, done: msg.done, total: msg.total, etaSeconds: eta });
        return;
      }
      case 'runDone':
        this.closeRun(job, msg.runId, 'done', undefined, msg.final);
        return;
      case 'runFailed':
        this.closeRun(job, msg.runId, 'failed', msg.error);
        return;
      case 'runCancelled':
        this.closeRun(job, msg.runId, 'cancelled');
        return;
      case 'log':
        if (job.open.has(msg.runId)) this.log(msg.runId, msg.level, msg.text);
        return;
      case 'jobDone':
        return;
    }
  }
}
