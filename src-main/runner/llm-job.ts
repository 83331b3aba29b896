import { RunCancelled } from '../engine/sink';
import { trainLlm, type LlmSink } from '../engine/llm/train';
import type { FromWorker, LlmJob } from './protocol';
import type { WorkerSink } from './worker';

/**
 * Runs an LLM job's runs one after another inside the worker. The worker's sink batches metric rows; log lines and
 * artifacts go straight to the parent, which stores them.
 */
export async function runLlmJob(
  job: LlmJob,
  sink: WorkerSink,
  io: {
    send: (msg: FromWorker) => void;
    log: (runId: number, text: string, level?: 'info' | 'warn' | 'error') => void;
    /** the worker's own script, which a second training thread starts from */
    peerEntry?: string;
  },
): Promise<void> {
  for (const [k, run] of job.runs.entries()) {
    const view: LlmSink = {
      metrics: (_run, step, names, values) => sink.metrics(k, step, names, values),
      snapshot: (_run, step, name, data) => sink.snapshot(k, step, name, data),
      progress: (done, total) => sink.progress(done, total),
      poll: async () => (await sink.poll()) || sink.isCancelled(k),
      flush: () => sink.flush(),
      log: (text, level = 'info') => {
        sink.flush();
        io.log(run.runId, text, level);
      },
      artifact: (kind, name, content) => io.send({ type: 'artifact', runId: run.runId, kind, name, content }),
    };
    try {
      const { final } = await trainLlm(
        {
          config: run.config,
          runDir: run.runDir,
          resume: run.resume,
          reference: run.reference,
          resumeAtMostStep: run.resumeAtMostStep,
          peerEntry: io.peerEntry,
        },
        view,
      );
      sink.flush();
      io.send({ type: 'runDone', runId: run.runId, final });
    } catch (err) {
      sink.flush();
      if (err instanceof RunCancelled || sink.isCancelled(k)) io.send({ type: 'runCancelled', runId: run.runId });
      else io.send({ type: 'runFailed', runId: run.runId, error: (err as Error).message ?? String(err) });
    }
  }
}
