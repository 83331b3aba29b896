import { RunCancelled } from '../engine/sink';
import { evaluatePolicy } from '../engine/llm/evaluate';
import { evalEngine } from '../engine/llm/eval-engine';
import type { EvalJob, FromWorker } from './protocol';
import type { WorkerSink } from './worker';

/** Runs one evaluation inside the worker and sends its outcome (summary and every scored response) to the parent. */
export async function runEvalJob(job: EvalJob, sink: WorkerSink, send: (msg: FromWorker) => void): Promise<void> {
  const { evalId } = job;
  try {
    const out = await evaluatePolicy(job.spec, evalEngine, {
      progress: (done, total) => send({ type: 'evalProgress', evalId, done, total }),
      log: (text) => send({ type: 'evalLog', evalId, text }),
      cancelled: () => sink.poll(),
    });
    send({ type: 'evalDone', evalId, summary: out.summary, responses: out.responses });
  } catch (err) {
    const cancelled = err instanceof RunCancelled || (await sink.poll());
    send({ type: 'evalFailed', evalId, error: cancelled ? 'cancelled' : ((err as Error).message ?? String(err)), cancelled });
  }
}
