import type { LabStore } from '../store';
import type { SafetyTinyEvaluation } from '../engine/llm/bench/safety-tiny';

/**
 * Stores one row of a benchmark's grid as a finished evaluation of its session, so it shows in the results table
 * with every other evaluation (and its responses in the detail). The same for the worker job and the CLI.
 */
export function recordBenchRow(store: LabStore, benchId: number, e: SafetyTinyEvaluation): number {
  const bench = store.benches.get(benchId);
  const id = store.evals.create({
    runId: null,
    benchId,
    name: `${bench?.name ?? 'bench'} #${benchId} · seed ${e.row.seed}`,
    loss: e.row.loss,
    model: e.model,
    prompts: e.prompts,
    reward: e.reward,
    cost: e.cost,
    reference: e.reference,
    samples: null,
    settings: e.settings,
  });
  store.evals.markRunning(id);
  store.evals.finish(id, 'done', { summary: e.summary, responses: e.responses });
  return id;
}
