import fs from 'node:fs';
import path from 'node:path';
import type { LabStore } from '../store';
import type { TrlImportResult } from '@shared/trl-job';
import { EXPORTED_CONFIG_FILE } from './export-job';

/**
 * Reading a TRL/Transformers job's logs back into the lab. The Hugging Face Trainer writes trainer_state.json with
 * `log_history`: one object per logging event, each with `step` and numbers; evaluation entries carry `eval_`-prefixed
 * names and the last entry is the run summary (`train_runtime`, `train_loss`, ...). TRL's DPOTrainer logs under the
 * lab's own metric names (`rewards/chosen`, `logps/rejected`, ...; the lab adopted TRL's), and the exported train.py
 * adds `balance/*`, so names pass through unchanged. TensorBoard event files are not read.
 */

/** Keys of log_history entries that are bookkeeping, not metrics. */
const NOT_METRICS = new Set([
  'step',
  'total_flos',
  'train_runtime',
  'train_samples_per_second',
  'train_steps_per_second',
  'train_loss',
  'eval_runtime',
  'eval_samples_per_second',
  'eval_steps_per_second',
]);

export interface TrainerStateLog {
  file: string;
  globalStep: number;
  maxSteps: number | null;
  /** metric values by step, in step order; train and eval entries of one step merged */
  steps: { step: number; values: Record<string, number> }[];
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Parses trainer_state.json text; errors name the file and the field (e.g. `log_history[3].step`). */
export function parseTrainerState(text: string, file: string): TrainerStateLog {
  let raw: unknown;
  try {
    // Python's json writes a diverged loss as NaN or Infinity, which JSON does not have: read those values as null
    raw = JSON.parse(text.replace(/(:\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, '$1null'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object with log_history`);
  const state = raw as Record<string, unknown>;
  if (!Array.isArray(state.log_history)) throw new Error(`${file}: log_history: expected an array of log entries, got ${describe(state.log_history)}`);
  if (state.global_step !== undefined && !isWhole(state.global_step))
    throw new Error(`${file}: global_step: expected a whole number, got ${describe(state.global_step)}`);
  if (state.max_steps !== undefined && !isWhole(state.max_steps))
    throw new Error(`${file}: max_steps: expected a whole number, got ${describe(state.max_steps)}`);
  const byStep = new Map<number, Record<string, number>>();
  state.log_history.forEach((entry: unknown, i) => {
    const where = `${file}: log_history[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`${where}: expected an object, got ${describe(entry)}`);
    const e = entry as Record<string, unknown>;
    if (!isWhole(e.step)) throw new Error(`${where}.step: expected a whole number, got ${describe(e.step)}`);
    if ('train_runtime' in e) return; // the summary entry: totals, not a point of the curves
    const values = byStep.get(e.step) ?? {};
    for (const [k, v] of Object.entries(e)) {
      if (NOT_METRICS.has(k)) continue;
      if (typeof v === 'number') values[k] = v;
      // stored as a gap in the curve, as the lab stores its own non-finite values
      else if (v === null) values[k] = NaN;
      else throw new Error(`${where}.${k}: expected a number, got ${describe(v)}`);
    }
    byStep.set(e.step, values);
  });
  const steps = [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, values]) => ({ step, values }));
  const globalStep = isWhole(state.global_step) ? state.global_step : (steps.at(-1)?.step ?? 0);
  return { file, globalStep, maxSteps: isWhole(state.max_steps) && state.max_steps > 0 ? state.max_steps : null, steps };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Where a job's trainer_state.json is: the folder itself, its output/ folder, or (a job still running, before the
 * final save) its newest checkpoint-N folder. `dir` may also name the file itself.
 */
export function findTrainerState(dir: string): string {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs) && fs.statSync(abs).isFile()) return abs;
  if (!fs.existsSync(abs)) throw new Error(`${abs}: no such folder`);
  for (const base of [abs, path.join(abs, 'output')]) {
    const f = path.join(base, 'trainer_state.json');
    if (fs.existsSync(f)) return f;
  }
  const checkpoints = [abs, path.join(abs, 'output')]
    .filter((d) => fs.existsSync(d) && fs.statSync(d).isDirectory())
    .flatMap((d) =>
      fs.readdirSync(d).flatMap((n) => (/^checkpoint-\d+$/.test(n) ? [{ n: Number(n.slice(11)), f: path.join(d, n, 'trainer_state.json') }] : [])),
    )
    .filter((c) => fs.existsSync(c.f))
    .sort((a, b) => b.n - a.n);
  if (checkpoints[0]) return checkpoints[0].f;
  throw new Error(`${abs}: no trainer_state.json (looked in the folder, output/ and output/checkpoint-*/)`);
}

interface ExportedConfig {
  runId: number | null;
  trlVersion: string | null;
  config: Record<string, unknown>;
}

/** The exported dpo_lab_run.json beside the job, if any; a malformed one is an error naming its field. */
function readExportedConfig(jobDir: string): ExportedConfig | null {
  const file = path.join(jobDir, EXPORTED_CONFIG_FILE);
  if (!fs.existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const o = raw as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || !o.config || typeof o.config !== 'object' || Array.isArray(o.config))
    throw new Error(`${file}: config: expected the exported run's config object`);
  return {
    runId: typeof o.runId === 'number' ? o.runId : null,
    trlVersion: typeof o.trlVersion === 'string' ? o.trlVersion : null,
    config: o.config as Record<string, unknown>,
  };
}

/**
 * Creates (first time) or extends (again) the lab run of kind 'trl' for a job folder: the run is found by the job's
 * absolute folder in config.source.dir, and only steps after the run's last stored step are added. Imported runs are
 * terminal ('done') so the lab never settles them as orphans; config.source.globalStep/maxSteps say how far the job
 * was when it was read.
 */
export function importTrlJob(store: LabStore, dir: string): TrlImportResult {
  const stateFile = findTrainerState(dir);
  const jobDir = path.resolve(fs.statSync(path.resolve(dir)).isFile() ? path.dirname(path.resolve(dir)) : dir);
  const log = parseTrainerState(fs.readFileSync(stateFile, 'utf8'), stateFile);
  const exported = readExportedConfig(jobDir) ?? readExportedConfig(path.dirname(path.dirname(stateFile)));
  const source = {
    kind: 'trl',
    dir: jobDir,
    trainerState: stateFile,
    exportedFromRun: exported?.runId ?? null,
    trlVersion: exported?.trlVersion ?? null,
    globalStep: log.globalStep,
    maxSteps: log.maxSteps,
  };
  const config: Record<string, unknown> = { ...(exported?.config ?? {}), source };
  const existing = store.runs.list({ kind: 'trl' }).find((r) => (r.config.source as { dir?: unknown } | undefined)?.dir === jobDir);
  let runId: number;
  let after = -1;
  if (existing) {
    runId = existing.id;
    const series = store.metrics.series(runId);
    after = Math.max(-1, ...Object.values(series).flatMap((s) => s.steps));
  } else {
    const name = exported?.runId != null ? `TRL job of run ${exported.runId}` : `TRL job ${path.basename(jobDir)}`;
    runId = store.runs.create({ name, kind: 'trl', config, seed: typeof config.seed === 'number' ? config.seed : null, tags: ['trl'] });
  }
  const fresh = log.steps.filter((s) => s.step > after);
  const names = [...new Set(fresh.flatMap((s) => Object.keys(s.values)))];
  const index = new Map(names.map((n, i) => [n, i]));
  const steps: number[] = [];
  const nameIdx: number[] = [];
  const values: number[] = [];
  for (const s of fresh)
    for (const [n, v] of Object.entries(s.values)) {
      steps.push(s.step);
      nameIdx.push(index.get(n)!);
      values.push(v);
    }
  if (values.length) store.metrics.append(runId, { steps, nameIdx, names, values });
  const final = store.metrics.last(runId);
  const finalNumbers = Object.fromEntries(Object.entries(final).filter((e): e is [string, number] => e[1] !== null));
  const now = Date.now();
  store.db
    .prepare(
      `UPDATE runs SET status = 'done', config = ?, final = ?, backend = ?, started_at = COALESCE(started_at, ?), finished_at = ?, owner = NULL WHERE id = ?`,
    )
    .run(JSON.stringify(config), JSON.stringify(finalNumbers), `TRL ${source.trlVersion ?? '(version unknown)'}`, now, now, runId);
  const progress = log.maxSteps
    ? `step ${log.globalStep} of ${log.maxSteps}${log.globalStep < log.maxSteps ? ' (job still running or stopped early)' : ''}`
    : `step ${log.globalStep}`;
  store.runs.log(runId, 'info', `imported ${fresh.length} new step(s) from ${stateFile}; job at ${progress}`);
  return { runId, created: !existing, addedSteps: fresh.length, lastStep: log.steps.at(-1)?.step ?? null, trainerState: stateFile };
}
