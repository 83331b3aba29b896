/**
 * sweeps:report: the Table 1 report of finished sweeps, read from the store (sweep summaries, the runs' final
 * metrics, their last policy snapshot and their balance curves) and written as HTML or Markdown. The CLI, the
 * Sweeps view's Report button and the HTTP API all come here, so they produce the same file.
 */
import path from 'node:path';
import type { LabStore } from '../store';
import type { RunSummary, SweepRecord } from '@shared/runs';
import type { ReportInput, ReportOutput } from '@shared/report';
import type { SensitivityStudy } from '@shared/sensitivity';
import type { SweepSummary } from '@shared/sweeps';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { LabError } from '@shared/errors';
import { CURVE_METRICS, figure1Charts, figure2Heatmaps, trainingCurves, type ReportRun } from '../report/figures';
import { table1ReportHtml, table1ReportMarkdown, type ReportFigures, type Table1ReportInput } from '../report/table1-report';

const DEFAULTS = SyntheticConfigSchema.parse({});
const HEATMAP_LOSSES = new Set(['dpo', 'bdpo']);

function finishedSweep(store: LabStore, id: number, preset: 'table1' | 'sensitivity', field: string): SweepRecord {
  const fail = (code: 'not_found' | 'invalid_input' | 'conflict', message: string): never => {
    throw new LabError(code, message, [{ path: field, message }]);
  };
  const s = store.sweeps.get(id) ?? fail('not_found', `no sweep with id ${id}`);
  if (s.preset !== preset) fail('invalid_input', `sweep ${id} ("${s.name}") is not a ${preset} sweep (preset ${String(s.preset)})`);
  if (s.status === 'running' || s.status === 'queued') fail('conflict', `sweep ${id} is still ${s.status}; the report reads finished sweeps`);
  return s;
}

/**
 * The runs the figures show: the Table 1 sweep's, or else the sensitivity sweep's at the spec's default setting
 * (the one Table 1 uses), so a report of either sweep has its heatmaps and curves.
 */
function figureRuns(store: LabStore, t1: SweepRecord | undefined, sens: SweepRecord | undefined): { runs: RunSummary[]; source: string } {
  const done = (id: number) => store.runs.list({ sweepId: id, limit: Number.MAX_SAFE_INTEGER }).filter((r) => r.status === 'done' && r.kind === 'synthetic');
  if (t1) return { runs: done(t1.id), source: `Runs of the Table 1 sweep ${t1.id} (“${t1.name}”).` };
  const s = sens!;
  const atDefaults = done(s.id).filter(
    (r) => r.config.model === DEFAULTS.model && r.config.steps === DEFAULTS.steps && r.config.beta === DEFAULTS.beta && r.config.lr === DEFAULTS.lr,
  );
  return {
    runs: atDefaults,
    source: `Runs of the sensitivity sweep ${s.id} (“${s.name}”) at the default setting: model ${DEFAULTS.model}, ${DEFAULTS.steps} steps, β ${DEFAULTS.beta}, lr ${DEFAULTS.lr}.`,
  };
}

/** The masked (x, y) pairs of a run's stored dataset (synthetic.md § Dataset file); undefined when absent. */
function datasetMask(store: LabStore, runId: number): [number, number][] | undefined {
  const art = store.artifacts.get(runId, 'dataset');
  if (!art) return undefined;
  const mask = (JSON.parse(art.content) as { mask?: unknown }).mask;
  return Array.isArray(mask) ? mask.filter((m): m is [number, number] => Array.isArray(m) && m.length === 2 && m.every(Number.isInteger)) : undefined;
}

async function reportFigures(store: LabStore, runs: RunSummary[], source: string): Promise<ReportFigures> {
  const maskOf = (r: RunSummary) => Number(r.config.mask ?? 0);
  const curveMask = Math.min(...runs.map(maskOf), Infinity);
  const names = CURVE_METRICS.map((m) => m.name);
  const reportRuns: ReportRun[] = runs.map((r) => {
    const mask = maskOf(r);
    const heat = !!r.loss && HEATMAP_LOSSES.has(r.loss);
    const probs = heat ? (store.metrics.snapshots(r.id, 'probs').frames.at(-1) ?? null) : null;
    return {
      id: r.id,
      loss: r.loss ?? 'unknown',
      mask,
      seed: r.seed ?? 0,
      final: r.final,
      probs,
      masked: heat && mask > 0 ? datasetMask(store, r.id) : undefined,
      series: mask === curveMask ? store.metrics.series(r.id, { names }) : {},
    };
  });
  return {
    figure2: figure2Heatmaps(reportRuns),
    curves: Number.isFinite(curveMask) ? await trainingCurves(reportRuns, curveMask) : [],
    figure1: await figure1Charts(),
    source,
  };
}

/** A sweep's run config without the fields the sweep varies: what every run of it shares. */
function sharedConfig(store: LabStore, sweepId: number, varied: string[]): Record<string, unknown> {
  const run = store.runs.list({ sweepId, limit: 1 })[0];
  return run ? Object.fromEntries(Object.entries(run.config).filter(([k]) => !varied.includes(k))) : {};
}

export async function buildReport(store: LabStore, version: string, input: ReportInput): Promise<ReportOutput> {
  const t1 = input.table1 !== undefined ? finishedSweep(store, input.table1, 'table1', 'table1') : undefined;
  const sens = input.sensitivity !== undefined ? finishedSweep(store, input.sensitivity, 'sensitivity', 'sensitivity') : undefined;
  const first = (t1 ?? sens)!;
  const { runs, source } = figureRuns(store, t1, sens);
  const backends = [...new Set(store.runs.list({ sweepId: first.id, limit: Number.MAX_SAFE_INTEGER }).map((r) => r.backend ?? 'unknown'))];
  const data: Table1ReportInput = {
    table1: t1 ? (t1.summary as SweepSummary) : undefined,
    sensitivity: sens ? (sens.summary as { sensitivity?: SensitivityStudy } | null)?.sensitivity : undefined,
    meta: {
      appVersion: version,
      backend: backends.join(', '),
      seeds: Number(first.config.seeds ?? 0),
      createdAt: new Date(),
      config: {
        ...(t1
          ? { [`Table 1 sweep ${t1.id}`]: t1.config, [`Table 1 runs (all but loss, mask, seed)`]: sharedConfig(store, t1.id, ['loss', 'mask', 'seed']) }
          : {}),
        ...(sens
          ? {
              [`sensitivity sweep ${sens.id}`]: sens.config,
              [`sensitivity runs (all but the varied fields)`]: sharedConfig(store, sens.id, ['loss', 'mask', 'seed', 'steps', 'beta', 'lr', 'model']),
            }
          : {}),
      },
    },
    figures: await reportFigures(store, runs, source),
  };
  const filename = input.filename ?? `table1-report.${input.format}`;
  if (input.format === 'html') return { filename, content: table1ReportHtml(data), assets: [] };
  const { md, assets } = table1ReportMarkdown(data, path.parse(filename).name);
  return { filename, content: md, assets };
}
