/**
 * The experiment process: owns the tfjs backend, runs one job, streams its output to the parent, exits.
 * Started as a Node child process (CLI, web mode) or an Electron utilityProcess (desktop app).
 */
import { initBackend } from '../engine/backend';
import { attachNativeGemm } from '../engine/llm/native-gemm';
import { RunCancelled, type RunSink } from '../engine/sink';
import { runSyntheticBatch, type SyntheticRunInput } from '../engine/synthetic/experiment';
import { NonFiniteMetricError } from '../engine/losses/diagnostics';
import { datasetSummary, parseDatasetForConfig } from '../engine/synthetic/dataset';
import { generateDataset } from '../engine/synthetic/task';
import { wasmKernels } from '../engine/synthetic/wasm-kernels';
import { getBackend } from '../engine/tf';
import type { FromWorker, SyntheticJob, ToWorker, WorkerJob } from './protocol';
import { fileURLToPath } from 'node:url';
import { isMainThread, workerData } from 'node:worker_threads';
import type { PeerInit } from '../engine/llm/parallel/channel';

/**
 * Rows are held at most this long before they reach the parent, which commits them at once. Half a second keeps
 * charts live and halves the SQLite work of a sweep against 200 ms: each run's flush is one transaction whose
 * cost is mostly per touched page, so more steps per flush cost less per row.
 */
const FLUSH_MS = 500;
/** The progress bar is updated more often than rows are sent. */
const PROGRESS_MS = 200;
const YIELD_MS = 50;

interface ParentPort {
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}
const electronPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(msg: FromWorker): void {
  if (electronPort) electronPort.postMessage(msg);
  else process.send?.(msg);
}

/** Sends the job's last message, then exits once it is on its way (an open IPC channel keeps a child alive). */
function sendLastAndExit(msg: FromWorker): void {
  if (electronPort) {
    electronPort.postMessage(msg);
    setTimeout(() => process.exit(0), 100);
  } else if (process.send) process.send(msg, () => process.exit(0));
  else process.exit(0);
}

function onMessage(cb: (msg: ToWorker) => void): void {
  if (electronPort) electronPort.on('message', (e) => cb(e.data as ToWorker));
  else process.on('message', (m) => cb(m as ToWorker));
}

/** One run's rows since the last flush, in growing typed columns (a sweep buffers ~10⁶ rows). */
class RowBuffer {
  private steps = new Int32Array(1024);
  private nameIdx = new Uint16Array(1024);
  private values = new Float64Array(1024);
  private n = 0;
  private names: string[] = [];
  private index = new Map<string, number>();
  /** the names array of the previous push and its indices: trainers pass the same array every step */
  private lastNames: readonly string[] | null = null;
  private lastIdx: number[] = [];

  push(step: number, names: readonly string[], values: ArrayLike<number>): void {
    if (names !== this.lastNames) {
      this.lastNames = names;
      this.lastIdx = names.map((nm) => {
        let k = this.index.get(nm);
        if (k === undefined) {
          k = this.names.length;
          this.names.push(nm);
          this.index.set(nm, k);
        }
        return k;
      });
    }
    const m = names.length;
    if (this.n + m > this.steps.length) this.grow(this.n + m);
    for (let i = 0; i < m; i++) {
      this.steps[this.n] = step;
      this.nameIdx[this.n] = this.lastIdx[i];
      this.values[this.n] = values[i];
      this.n++;
    }
  }

  private grow(min: number): void {
    const cap = Math.max(min, 2 * this.steps.length);
    const grown = <T extends Int32Array | Uint16Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.steps = grown(this.steps, (k) => new Int32Array(k));
    this.nameIdx = grown(this.nameIdx, (k) => new Uint16Array(k));
    this.values = grown(this.values, (k) => new Float64Array(k));
  }

  take(): { steps: Int32Array; nameIdx: Uint16Array; names: string[]; values: Float64Array } | null {
    if (!this.n) return null;
    const out = { steps: this.steps.slice(0, this.n), nameIdx: this.nameIdx.slice(0, this.n), names: this.names, values: this.values.slice(0, this.n) };
    this.n = 0;
    this.names = [];
    this.index = new Map();
    this.lastNames = null;
    return out;
  }
}

export class WorkerSink implements RunSink {
  private buffers: RowBuffer[];
  private lastFlush = Date.now();
  private lastYield = Date.now();
  readonly cancelled = new Set<number>();
  private cancelAll = false;

  constructor(private readonly runIds: number[]) {
    this.buffers = runIds.map(() => new RowBuffer());
  }
  cancel(runId: number | null): void {
    if (runId === null) this.cancelAll = true;
    else if (this.runIds.includes(runId)) this.cancelled.add(runId);
    if (this.cancelled.size === this.runIds.length) this.cancelAll = true;
  }
  isCancelled(run: number): boolean {
    return this.cancelAll || this.cancelled.has(this.runIds[run]);
  }
  metrics(run: number, step: number, names: readonly string[], values: ArrayLike<number>): void {
    if (this.isCancelled(run)) return;
    this.buffers[run].push(step, names, values);
  }
  /** Snapshots wait for the next flush too, and go out after their run's metric rows (so rows up to a snapshot's
   * step arrive first), instead of each one flushing every run's rows in small messages. */
  private snapshots: { run: number; step: number; name: string; data: number[][] }[] = [];
  snapshot(run: number, step: number, name: string, data: unknown): void {
    if (this.isCancelled(run)) return;
    this.snapshots.push({ run, step, name, data: data as number[][] });
  }
  private lastProgress = 0;
  progress(done: number, total: number): void {
    const now = Date.now();
    // The bar needs a few updates a second, not one message per step.
    if (done < total && now - this.lastProgress < PROGRESS_MS) return;
    this.lastProgress = now;
    send({ type: 'progress', done, total });
  }
  flush(): void {
    this.lastFlush = Date.now();
    this.buffers.forEach((b, i) => {
      const batch = b.take();
      if (batch) send({ type: 'metrics', runId: this.runIds[i], batch });
    });
    const snaps = this.snapshots;
    this.snapshots = [];
    for (const s of snaps) send({ type: 'snapshot', runId: this.runIds[s.run], step: s.step, name: s.name, data: s.data });
  }
  async poll(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastFlush >= FLUSH_MS) this.flush();
    if (now - this.lastYield >= YIELD_MS) {
      this.lastYield = now;
      await new Promise<void>((r) => setImmediate(r));
    }
    return this.cancelAll;
  }
}

function log(runId: number, text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
  send({ type: 'log', runId, level, text });
}

/** A view of the job's sink for a subset of its runs (run k of the subset is run indices[k] of the job). */
class SubsetSink implements RunSink {
  constructor(
    private readonly parent: WorkerSink,
    private readonly indices: number[],
  ) {}
  metrics(run: number, step: number, names: readonly string[], values: ArrayLike<number>): void {
    this.parent.metrics(this.indices[run], step, names, values);
  }
  snapshot(run: number, step: number, name: string, data: unknown): void {
    this.parent.snapshot(this.indices[run], step, name, data);
  }
  progress(done: number, total: number): void {
    this.parent.progress(done, total);
  }
  poll(): Promise<boolean> {
    return this.parent.poll();
  }
}

async function runSyntheticJob(job: SyntheticJob, sink: WorkerSink): Promise<void> {
  const ids = job.runs.map((r) => r.runId);
  let inputs: SyntheticRunInput[];
  try {
    // Make (or check) each dataset first and store it at once, so the UI can mark masked cells while the run trains.
    inputs = job.runs.map((r) => {
      const dataset = r.dataset === undefined ? generateDataset(r.config) : parseDatasetForConfig(r.dataset, r.config, 'dataset');
      const s = datasetSummary(dataset);
      send({ type: 'artifact', runId: r.runId, kind: 'dataset', name: 'dataset.json', content: JSON.stringify(dataset) });
      log(
        r.runId,
        `dataset ${r.dataset === undefined ? `drawn from seed ${r.config.seed}` : 'given'}: ${dataset.pairs.length} pairs, ${s.maskedCells} masked cells`,
      );
      if (getBackend() === 'wasm' && !wasmKernels())
        log(r.runId, "the lab's WASM SIMD kernels could not start; training uses tfjs's own (several times slower)", 'warn');
      return { config: r.config, dataset, datasetIsGenerated: r.dataset === undefined };
    });
  } catch (err) {
    for (const runId of ids) send({ type: 'runFailed', runId, error: (err as Error).message ?? String(err) });
    return;
  }

  /**
   * Trains some of the job's runs as one program. Runs in a batch never mix (no op reduces across runs), so
   * when one diverges the others are still good: the batch is retrained in halves until the diverging run is
   * alone. Metric rows are keyed by (run, metric, step), so a retrained step overwrites its earlier row.
   */
  async function train(indices: number[]): Promise<void> {
    try {
      const results = await runSyntheticBatch(
        indices.map((i) => inputs[i]),
        new SubsetSink(sink, indices),
      );
      sink.flush();
      results.forEach((res, k) => {
        const runId = ids[indices[k]];
        if (sink.isCancelled(indices[k])) return send({ type: 'runCancelled', runId });
        const ref = res.refFinal;
        log(
          runId,
          `πref after ${res.config.refSteps} warm-up steps: expectedUtility ${ref.expectedUtility.toFixed(4)}, pBest ${ref.pBest.toFixed(4)}, oodMass ${ref.oodMass.toFixed(4)}`,
        );
        send({ type: 'runDone', runId, final: res.final });
      });
    } catch (err) {
      sink.flush();
      if (err instanceof RunCancelled) throw err;
      const message = (err as Error).message ?? String(err);
      if (err instanceof NonFiniteMetricError && indices.length > 1) {
        for (const i of indices) log(ids[i], `a run trained alongside this one diverged (${message}); retraining the batch in halves to isolate it`, 'warn');
        const mid = Math.ceil(indices.length / 2);
        await train(indices.slice(0, mid));
        await train(indices.slice(mid));
        return;
      }
      // Alone, the run label inside the message is the run's position in this sub-batch: drop it.
      const own = indices.length === 1 ? message.replace(/\[run \d+\]/g, '') : message;
      for (const i of indices) {
        if (sink.cancelled.has(ids[i])) send({ type: 'runCancelled', runId: ids[i] });
        else send({ type: 'runFailed', runId: ids[i], error: own });
      }
    }
  }

  try {
    await train(ids.map((_, i) => i));
  } catch (err) {
    sink.flush();
    // RunCancelled: every run still open is cancelled (the manager ignores runs already closed).
    for (const runId of ids) send(err instanceof RunCancelled ? { type: 'runCancelled', runId } : { type: 'runFailed', runId, error: (err as Error).message });
  }
}

async function runJob(job: WorkerJob, sink: WorkerSink): Promise<void> {
  if (job.kind === 'synthetic') return runSyntheticJob(job, sink);
  if (job.kind === 'eval') {
    const { runEvalJob } = await import('./eval-job');
    return runEvalJob(job, sink, send);
  }
  if (job.kind === 'scorer') {
    const { runScorerJob } = await import('./scorer-job');
    return runScorerJob(job, send);
  }
  if (job.kind === 'bench') {
    const { runBenchJob } = await import('./bench-job');
    return runBenchJob(job, sink, send);
  }
  // The LLM trainer (tokenizers, safetensors, models) loads only in workers that train one.
  const { runLlmJob } = await import('./llm-job');
  return runLlmJob(job, sink, { send, log, peerEntry: fileURLToPath(import.meta.url) });
}

let sink: WorkerSink | null = null;
const pendingCancels: (number | null)[] = [];
// This file is also the entry of an LLM run's second training thread (engine/llm/parallel), so that the bundle
// needs no second worker script.
if (!isMainThread && (workerData as PeerInit | undefined)?.role === 'llm-peer') {
  void import('../engine/llm/parallel/peer').then((m) => m.runLlmPeer(workerData as PeerInit));
} else
  onMessage((msg) => {
    if (msg.type === 'cancel') {
      if (sink) sink.cancel(msg.runId);
      else pendingCancels.push(msg.runId);
      return;
    }
    if (msg.type === 'start') {
      void (async () => {
        const job = msg.job;
        const ids = job.kind === 'eval' || job.kind === 'scorer' || job.kind === 'bench' ? [] : job.runs.map((r) => r.runId);
        try {
          const plain = await initBackend(job.backend);
          // LLM work multiplies big matrices: OpenBLAS takes WASM's products where it is built.
          const backend = job.kind === 'synthetic' ? plain : attachNativeGemm(plain);
          send({ type: 'hello', pid: process.pid, backend });
        } catch (err) {
          for (const runId of ids) send({ type: 'runFailed', runId, error: (err as Error).message });
          if (job.kind === 'eval') send({ type: 'evalFailed', evalId: job.evalId, error: (err as Error).message, cancelled: false });
          if (job.kind === 'scorer') send({ type: 'scorerFailed', scorerId: job.scorerId, error: (err as Error).message });
          if (job.kind === 'bench') send({ type: 'benchFailed', benchId: job.benchId, error: (err as Error).message, cancelled: false });
          sendLastAndExit({ type: 'jobDone' });
          return;
        }
        sink = new WorkerSink(ids);
        pendingCancels.forEach((c) => sink!.cancel(c));
        await runJob(job, sink);
        sendLastAndExit({ type: 'jobDone' });
      })();
    }
  });
