/**
 * Trains a run's config again as a new run: a synthetic run on the dataset it trained on (so the same backend
 * gives the same numbers, bit for bit), an LLM run only once the model and data at its paths are the bytes it
 * was bundled with. The new run records which run it repeats, for the comparison of final metrics.
 */
import path from 'node:path';
import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { runArtifact, runsWithArtifact } from '../store/bundles';
import { startSyntheticRuns } from '../api/synthetic-runs';
import { startLlmRuns } from '../api/llm-runs';
import { LlmFingerprintsSchema, type RerunResult } from '@shared/bundle';
import { parseInput } from '@shared/contract';
import { LabError } from '@shared/errors';
import { FINGERPRINTS_ARTIFACT } from './collect';
import { fingerprintMismatches } from './fingerprint';

/** Artifact kind on a rerun, naming (as its content) the id of the run it repeats. */
export const RERUN_OF = 'rerun-of';

export interface RerunOptions {
  id: number;
  /** an LLM run's model folder and data file on this machine, when not at the paths it was trained with */
  model?: string;
  data?: string;
}

function configFailure(id: number, err: unknown): LabError {
  const e = err instanceof LabError ? err : new LabError('invalid_input', (err as Error).message);
  // the message carries the issues: a front door printing issues alone would lose which run and why
  return new LabError(e.code, `run ${id} cannot be re-run here: ${e.message}`);
}

export async function rerunRun(store: LabStore, manager: RunManager, opts: RerunOptions): Promise<RerunResult> {
  const run = store.runs.get(opts.id);
  if (!run) throw new LabError('not_found', `run ${opts.id} does not exist`, [{ path: 'id', message: `no run with id ${opts.id}` }]);
  const name = `${run.name} · rerun`.slice(0, 200);
  let runId: number;
  if (run.kind === 'synthetic') {
    if (opts.model || opts.data) throw new LabError('invalid_input', 'model and data are for LLM runs; a synthetic run re-runs on its own dataset');
    const dataset = runArtifact(store, run.id, 'dataset');
    let input;
    try {
      // the stored config goes through today's schema, as a launch would (a custom loss's formula included)
      input = parseInput('runs:start', { kind: 'synthetic', config: run.config, dataset: dataset ? (JSON.parse(dataset) as unknown) : undefined, name });
    } catch (err) {
      throw configFailure(run.id, err);
    }
    if (input.kind !== 'synthetic') throw new LabError('internal', 'unexpected run kind');
    runId = startSyntheticRuns(store, manager, input).runIds[0];
  } else if (run.kind === 'llm') {
    const config = {
      ...run.config,
      ...(opts.model ? { model: path.resolve(opts.model) } : {}),
      ...(opts.data ? { data: path.resolve(opts.data) } : {}),
    } as Record<string, unknown> & { model: string; data: string };
    const stored = runArtifact(store, run.id, FINGERPRINTS_ARTIFACT);
    if (stored) {
      const mismatches = await fingerprintMismatches(LlmFingerprintsSchema.parse(JSON.parse(stored)), config);
      if (mismatches.length)
        throw new LabError(
          'conflict',
          `run ${run.id} was not re-run: the files differ from those it was bundled with: ${mismatches.slice(0, 5).join('; ')}${mismatches.length > 5 ? `; … (${mismatches.length} in all)` : ''}`,
        );
    }
    let input;
    try {
      input = parseInput('runs:start', { kind: 'llm', config, name });
    } catch (err) {
      throw configFailure(run.id, err);
    }
    if (input.kind !== 'llm') throw new LabError('internal', 'unexpected run kind');
    runId = startLlmRuns(store, manager, input).runIds[0];
  } else {
    throw new LabError('invalid_input', `run ${run.id} is a ${run.kind} run, trained outside the lab; only synthetic and LLM runs re-run`);
  }
  store.artifacts.put(runId, RERUN_OF, String(run.id), String(run.id));
  store.runs.log(runId, 'info', `rerun of run ${run.id} (${run.name})`);
  return { runId, sourceRunId: run.id };
}

/** Which run a run repeats (if it is a rerun) and the reruns made of it, oldest first. */
export function rerunLinks(store: LabStore, id: number): { sourceRunId: number | null; reruns: number[] } {
  const source = runArtifact(store, id, RERUN_OF);
  const reruns = runsWithArtifact(store, RERUN_OF, String(id));
  return { sourceRunId: source ? Number(source) : null, reruns };
}
