import { RunCancelled } from '../engine/sink';
import { runSafetyTiny, safetyTinyBudget } from '../engine/llm/bench/safety-tiny';
import type { BenchJob, FromWorker } from './protocol';
import type { WorkerSink } from './worker';

/**
 * Runs one benchmark session inside the worker: each stage, log line and evaluated row goes to the parent as it
 * happens (so the grid fills in while later losses train), then the grid. A cancel is read between stages; inside
 * a stage the runner's kill after its grace period ends it.
 */
export async function runBenchJob(job: BenchJob, sink: WorkerSink, send: (msg: FromWorker) => void): Promise<void> {
  const { benchId, spec } = job;
  const s = spec.settings;
  try {
    const result = await runSafetyTiny({
      seeds: Array.from({ length: s.seeds }, (_, i) => i + 1),
      losses: s.losses,
      workDir: spec.workDir,
      budget: safetyTinyBudget(s),
      log: (text) => send({ type: 'benchLog', benchId, text }),
      onProgress: (progress) => send({ type: 'benchProgress', benchId, progress }),
      onRow: (evaluation) => send({ type: 'benchRow', benchId, evaluation }),
      cancelled: () => sink.poll(),
    });
    send({ type: 'benchDone', benchId, result });
  } catch (err) {
    const cancelled = err instanceof RunCancelled || (await sink.poll());
    send({ type: 'benchFailed', benchId, error: cancelled ? 'cancelled' : ((err as Error).message ?? String(err)), cancelled });
  }
}
