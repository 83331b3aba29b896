/**
 * Gathers a run (or a sweep's runs) from the store into a bundle's content: everything stored about it, plus
 * the synthetic dataset it trained on or, for an LLM run, fingerprints of its model and data files.
 */
import fs from 'node:fs';
import type { LabStore } from '../store';
import { runArtifact, snapshotRows } from '../store/bundles';
import type { BundleContent, BundledRun, LlmFingerprints } from '@shared/bundle';
import { LlmFingerprintsSchema } from '@shared/bundle';
import { LabError } from '@shared/errors';
import { fingerprintLlm } from './fingerprint';

/** Where an imported LLM run keeps the fingerprints it was bundled with (artifact kind). */
export const FINGERPRINTS_ARTIFACT = 'llm-fingerprints';

function customLossOf(config: Record<string, unknown>): BundledRun['customLoss'] {
  const c = config.customLoss as { name?: unknown; formula?: unknown } | undefined;
  return c && typeof c.name === 'string' && typeof c.formula === 'string' ? { name: c.name, formula: c.formula } : null;
}

/**
 * An LLM run's fingerprints: the ones it was imported with when it came from a bundle (they describe the files
 * it trained on), else those of the files at its paths now.
 */
async function llmFingerprints(store: LabStore, runId: number, config: Record<string, unknown>): Promise<LlmFingerprints> {
  const stored = runArtifact(store, runId, FINGERPRINTS_ARTIFACT);
  if (stored) return LlmFingerprintsSchema.parse(JSON.parse(stored));
  const model = String(config.model);
  const data = String(config.data);
  if (!fs.existsSync(model) || !fs.statSync(model).isDirectory())
    throw new LabError('invalid_input', `run ${runId}: its model folder ${model} is gone, so the bundle cannot fingerprint it`);
  if (!fs.existsSync(data)) throw new LabError('invalid_input', `run ${runId}: its data file ${data} is gone, so the bundle cannot fingerprint it`);
  return fingerprintLlm({ model, data });
}

export async function collectRun(store: LabStore, runId: number): Promise<BundledRun> {
  const run = store.runs.get(runId);
  if (!run) throw new LabError('not_found', `run ${runId} does not exist`, [{ path: 'runId', message: `no run with id ${runId}` }]);
  if (run.status === 'queued' || run.status === 'running')
    throw new LabError('conflict', `run ${runId} is ${run.status}; bundle it once it has ended`, [{ path: 'runId', message: `run ${runId} is ${run.status}` }]);
  const dataset = run.kind === 'synthetic' ? runArtifact(store, runId, 'dataset') : undefined;
  const metrics = store.metrics.series(runId);
  return {
    sourceId: run.id,
    name: run.name,
    kind: run.kind,
    status: run.status,
    config: run.config,
    seed: run.seed,
    backend: run.backend,
    versions: run.versions,
    final: run.final,
    error: run.error,
    tags: run.tags,
    notes: run.notes,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    customLoss: customLossOf(run.config),
    dataset: dataset ? (JSON.parse(dataset) as BundledRun['dataset']) : null,
    fingerprints: run.kind === 'llm' ? await llmFingerprints(store, runId, run.config) : null,
    metrics,
    snapshots: snapshotRows(store, runId).map((s) => ({ name: s.name, step: s.step, shape: s.shape, data: s.data.toString('base64') })),
    log: store.runs.logs(runId),
  };
}

export async function collectBundle(store: LabStore, target: { runId?: number; sweepId?: number }, app: { version: string }): Promise<BundleContent> {
  const base = { app: { name: 'dpo-lab' as const, version: app.version } };
  if (target.sweepId === undefined) return { ...base, sweep: null, runs: [await collectRun(store, target.runId!)] };
  const sweep = store.sweeps.get(target.sweepId);
  if (!sweep) throw new LabError('not_found', `sweep ${target.sweepId} does not exist`, [{ path: 'sweepId', message: `no sweep with id ${target.sweepId}` }]);
  if (sweep.status === 'running' || sweep.status === 'queued')
    throw new LabError('conflict', `sweep ${sweep.id} is ${sweep.status}; bundle it once it has ended`);
  if (!sweep.runIds.length) throw new LabError('invalid_input', `sweep ${sweep.id} has no runs to bundle`);
  const runs: BundledRun[] = [];
  for (const id of sweep.runIds) runs.push(await collectRun(store, id));
  return {
    ...base,
    sweep: { sourceId: sweep.id, name: sweep.name, preset: sweep.preset, config: sweep.config, status: sweep.status, summary: sweep.summary ?? null },
    runs,
  };
}
