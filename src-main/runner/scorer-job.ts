import path from 'node:path';
import { loadScorerPairs, trainScorer } from '../engine/llm/scorer-train';
import type { FromWorker, ScorerJob } from './protocol';

const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** Progress goes out a few times a second at most: a tiny model can take hundreds of steps a second. */
const PROGRESS_MS = 250;

/**
 * Trains one scorer inside the worker and sends its held-out accuracy to the parent. Training holds the thread
 * between steps, so a cancel arrives as the runner's kill after its grace period, not as a message read here.
 */
export async function runScorerJob(job: ScorerJob, send: (msg: FromWorker) => void): Promise<void> {
  const { scorerId, spec } = job;
  const log = (text: string) => send({ type: 'scorerLog', scorerId, text });
  try {
    const pairs = await loadScorerPairs(spec.data, spec.kind);
    log(`${pairs.length} ${spec.kind === 'cost' ? 'safety' : 'preference'} pairs from ${path.basename(spec.data)}`);
    const s = spec.settings;
    let last = 0;
    const res = await trainScorer({
      kind: spec.kind,
      model: spec.model,
      out: spec.out,
      pairs,
      steps: s.steps,
      lr: s.lr,
      maxLength: s.maxLength,
      batchSize: s.batchSize,
      evalFraction: s.evalFraction,
      seed: s.seed,
      onStep: (step, steps, loss) => {
        const now = Date.now();
        if (step < steps && now - last < PROGRESS_MS) return;
        last = now;
        send({ type: 'scorerProgress', scorerId, step, steps, loss });
      },
    });
    send({
      type: 'scorerDone',
      scorerId,
      result: {
        // NaN (no held-out pair) would not survive JSON: said as null
        accuracy: finite(res.accuracy),
        signAccuracy: finite(res.signAccuracy),
        trainPairs: res.trainPairs,
        evalPairs: res.evalPairs,
        steps: res.steps,
        finalLoss: res.finalLoss,
        seconds: res.seconds,
      },
    });
  } catch (err) {
    send({ type: 'scorerFailed', scorerId, error: (err as Error).message ?? String(err) });
  }
}
