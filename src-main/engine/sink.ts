/**
 * Where an experiment sends what it produces. The runner's worker implements it (batching rows to the main
 * process); tests implement it in memory. `run` is the index of the run inside a batched job.
 */
export interface RunSink {
  /** One logged step of run `run`; `names` and `values` are aligned. */
  metrics(run: number, step: number, names: readonly string[], values: ArrayLike<number>): void;
  /** A larger value at a step, e.g. the K×K probability matrix ("probs"). Must be JSON-serialisable. */
  snapshot(run: number, step: number, name: string, data: unknown): void;
  /** Work done so far in the whole job, in the job's own units (e.g. optimiser steps summed over phases). */
  progress(done: number, total: number): void;
  /**
   * Called once per training step. Resolves true when the job was cancelled. Implementations yield to the
   * event loop now and then (so cancel messages arrive and buffered rows get flushed) and are cheap otherwise.
   */
  poll(): Promise<boolean>;
}

/** Thrown by an experiment that stops because its sink's poll() said so. */
export class RunCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'RunCancelled';
  }
}

/** A sink that keeps everything in memory; for tests, the CLI's in-process paths and benchmarks. */
export class MemorySink implements RunSink {
  readonly rows: { run: number; step: number; name: string; value: number }[] = [];
  readonly snapshots: { run: number; step: number; name: string; data: unknown }[] = [];
  lastProgress: [number, number] = [0, 0];
  cancelled = false;
  constructor(private readonly keepRows = true) {}
  metrics(run: number, step: number, names: readonly string[], values: ArrayLike<number>): void {
    if (!this.keepRows) return;
    for (let i = 0; i < names.length; i++) this.rows.push({ run, step, name: names[i], value: values[i] });
  }
  snapshot(run: number, step: number, name: string, data: unknown): void {
    this.snapshots.push({ run, step, name, data });
  }
  progress(done: number, total: number): void {
    this.lastProgress = [done, total];
  }
  poll(): Promise<boolean> {
    return Promise.resolve(this.cancelled);
  }
}
