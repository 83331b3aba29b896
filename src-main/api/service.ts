import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { metricRows, tableCsv } from '../store/export';
import { metricsCsvString, metricsExport, type MetricsExport } from './metrics-export';
import { computeTheory } from '../engine/synthetic/theory';
import { startSyntheticRuns } from './synthetic-runs';
import { startLlmRuns } from './llm-runs';
import { llmHandlers } from './llm-commands';
import { trlHandlers } from './trl';
import { evalHandlers } from './evals';
import type { EvalRunner } from '../runner/eval-runner';
import { scorerHandlers } from './scorers';
import type { ScorerRunner } from '../runner/scorer-runner';
import { benchHandlers } from './benches';
import type { BenchRunner } from '../runner/bench-runner';
import { startSweep } from './sweeps';
import { buildReport } from './reports';
import { bundleHandlers } from './bundles';
import { customLossHandlers } from './custom-losses';
import { computeRunStats } from '@shared/run-stats';
import { LabError, toErrorBody } from '@shared/errors';
import { storeError } from '../store/failures';
import type { LabEvent } from '@shared/events';
import { isBackendPreference, type BackendPreference } from '@shared/backends';
import { parseInput, type AppInfo, type CommandName, type CommandOutputs, type CommandParsed, type Envelope } from '@shared/contract';

export interface ServiceContext {
  store: LabStore;
  manager: RunManager;
  mode: AppInfo['mode'];
  version: string;
  backendPreference: string;
  /** runs evaluations in workers of their own */
  evals: EvalRunner;
  /** trains reward and cost models in workers of their own */
  scorers: ScorerRunner;
  /** runs benchmark sessions in workers of their own */
  benches: BenchRunner;
}

type Handlers = { [C in CommandName]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

/** Implements the contract once; every front door forwards raw input here. */
export class LabService {
  private lastBackendLabel: string | null = null;
  private readonly sweepsSettled = new Map<number, Promise<void>>();
  private readonly handlers: Handlers;

  constructor(private readonly ctx: ServiceContext) {
    const { store, manager } = ctx;
    const mustGet = (id: number) => {
      const run = store.runs.get(id);
      if (!run) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'id', message: `no run with id ${id}` }]);
      return run;
    };
    const mustGetSweep = (id: number) => {
      const s = store.sweeps.get(id);
      if (!s) throw new LabError('not_found', `sweep ${id} does not exist`, [{ path: 'id', message: `no sweep with id ${id}` }]);
      return s;
    };
    manager.onEvent((e) => {
      if (e.type === 'run:status' && e.backend) this.lastBackendLabel = e.backend;
    });
    this.handlers = {
      'app:info': () => ({
        version: ctx.version,
        dbPath: store.file,
        mode: ctx.mode,
        backendPreference: ctx.backendPreference,
        backendLabel: this.lastBackendLabel,
        runningCount: manager.runningCount,
      }),
      'runs:list': (q) => store.runs.list(q),
      'runs:get': ({ id }) => mustGet(id),
      'runs:start': (input) => (input.kind === 'llm' ? startLlmRuns(store, manager, input) : { runIds: startSyntheticRuns(store, manager, input).runIds }),
      ...llmHandlers({ store, manager, backendPreference: ctx.backendPreference, ensureBackend }),
      ...trlHandlers({ store }),
      ...evalHandlers({ store, evals: ctx.evals }),
      ...scorerHandlers({ store, scorers: ctx.scorers }),
      ...benchHandlers({ store, benches: ctx.benches }),
      ...bundleHandlers({ store, manager, version: ctx.version }),
      ...customLossHandlers({ store }),
      'runs:cancel': ({ id }) => {
        const run = mustGet(id);
        if (manager.cancel(id)) return { ok: true };
        if (run.status !== 'queued' && run.status !== 'running') return { ok: false };
        // Not ours: either its process died (then it is failed now) or another process is training it.
        if (store.runs.failOrphans().includes(id)) return { ok: true };
        const pid = store.runs.ownerOf(id)?.split(':')[0];
        throw new LabError('conflict', `run ${id} is being trained by another DPO Lab process (pid ${pid}); cancel it there`);
      },
      'runs:delete': ({ id }) => {
        const run = mustGet(id);
        if (run.status === 'running' || run.status === 'queued') throw new LabError('conflict', `run ${id} is ${run.status}; cancel it before deleting`);
        const ok = store.runs.delete(id);
        if (ok) manager.publish({ type: 'run:deleted', runId: id });
        return { ok };
      },
      'runs:update': ({ id, ...patch }) => {
        mustGet(id);
        store.runs.update(id, patch);
        return mustGet(id);
      },
      'runs:metrics': ({ id, names, afterStep }) => {
        mustGet(id);
        return store.metrics.series(id, { names, afterStep });
      },
      'runs:snapshots': ({ id, name, afterStep }) => {
        mustGet(id);
        return store.metrics.snapshots(id, name, afterStep);
      },
      'runs:exportCsv': async ({ ids }) => {
        ids.forEach(mustGet);
        const exp = metricsExport(store, ids);
        return { filename: exp.filename, csv: await metricsCsvString(exp) };
      },
      'runs:dataset': ({ id }) => {
        mustGet(id);
        const art = store.artifacts.get(id, 'dataset');
        if (!art) return null;
        const ds = JSON.parse(art.content) as { K: number; alpha: number; mask: [number, number][]; pairs: [number, number, number][] };
        const perPrompt = new Array<number>(ds.K).fill(0);
        for (const [x] of ds.pairs) perPrompt[x]++;
        return { K: ds.K, alpha: ds.alpha, mask: ds.mask, pairs: ds.pairs.length, pairsPerPrompt: perPrompt };
      },
      'runs:datasetFile': ({ id }) => {
        mustGet(id);
        const art = store.artifacts.get(id, 'dataset');
        return art ? { filename: `run-${id}-dataset.json`, content: art.content } : null;
      },
      'runs:log': ({ id }) => {
        mustGet(id);
        return { lines: store.runs.logs(id) };
      },
      'table:exportCsv': ({ filename, header, rows }) => ({ filename, csv: tableCsv(header, rows) }),
      'theory:compute': (input) => computeTheory(input),
      'sweeps:report': (input) => buildReport(store, ctx.version, input),
      // Computes with tfjs, so it is loaded on first use: the app and `serve` start without it.
      'loss:inspect': async (input) => {
        const [{ inspectLosses }, { initBackend }] = await Promise.all([import('../engine/losses/inspect'), import('../engine/backend')]);
        await ensureBackend(initBackend, ctx.backendPreference);
        try {
          return inspectLosses(input);
        } catch (err) {
          throw new LabError('invalid_input', (err as Error).message);
        }
      },
      'sweeps:list': () => store.sweeps.list(),
      'sweeps:get': ({ id }) => mustGetSweep(id),
      'sweeps:start': (input) => {
        const { sweepId, runIds, done } = startSweep(store, manager, input);
        manager.publish({ type: 'sweep:status', sweepId, status: 'running' });
        // A lab closed mid-sweep leaves it to the next start (finishOrphanedSweeps); nothing to report here.
        const settled = done.then(
          () => manager.publish({ type: 'sweep:status', sweepId, status: mustGetSweep(sweepId).status }),
          () => undefined,
        );
        this.sweepsSettled.set(sweepId, settled);
        return { sweepId, runIds };
      },
      'stats:compute': (input) => {
        const runs = input.ids.map((id) => {
          const run = store.runs.get(id);
          if (!run) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'ids', message: `no run with id ${id}` }]);
          return run;
        });
        return computeRunStats(runs, input);
      },
      'sweeps:cancel': ({ id }) => {
        const sweep = mustGetSweep(id);
        let cancelled = 0;
        for (const runId of sweep.runIds) if (manager.cancel(runId)) cancelled++;
        return { ok: true, cancelled };
      },
    };
  }

  /** Resolves once a sweep this service started has its summary and final status (or its lab closed). */
  sweepSettled(sweepId: number): Promise<void> {
    return this.sweepsSettled.get(sweepId) ?? Promise.resolve();
  }

  /** Every event front doors relay (runs, sweeps, deletions); returns the unsubscribe function. */
  onEvent(listener: (e: LabEvent) => void): () => void {
    return this.ctx.manager.onEvent(listener);
  }

  /** The metrics CSV of some runs, row by row, for front doors that stream it to a file or a response. */
  metricsCsvRows(ids: number[]): Iterable<(string | number)[]> {
    const { store } = this.ctx;
    for (const id of ids)
      if (!store.runs.get(id)) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'ids', message: `no run with id ${id}` }]);
    return metricRows(store.metrics, ids);
  }

  /**
   * runs:exportCsv as a stream for front doors that can send one (HTTP): the input is checked and every run
   * looked up before the first byte, so a refusal is an ordinary error envelope; never throws.
   */
  openMetricsExport(raw: unknown): Envelope<MetricsExport> {
    try {
      const { ids } = parseInput('runs:exportCsv', raw);
      for (const id of ids)
        if (!this.ctx.store.runs.get(id)) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'ids', message: `no run with id ${id}` }]);
      return { ok: true, value: metricsExport(this.ctx.store, ids) };
    } catch (err) {
      return { ok: false, error: toErrorBody(storeError(err, this.ctx.store.file) ?? err) };
    }
  }

  /** Validates and runs one command; never throws, so no front door can crash on bad input. */
  async invoke(command: string, raw: unknown): Promise<Envelope<unknown>> {
    try {
      if (!Object.prototype.hasOwnProperty.call(this.handlers, command)) throw new LabError('not_found', `unknown command "${command}"`);
      const c = command as CommandName;
      const input = parseInput(c, raw);
      const handler = this.handlers[c] as (i: unknown) => unknown;
      return { ok: true, value: await handler(input) };
    } catch (err) {
      // a full disk, a read-only or damaged file: said with the file's name and its own code, not as 'internal'
      return { ok: false, error: toErrorBody(storeError(err, this.ctx.store.file) ?? err) };
    }
  }
}

let backendReady: Promise<unknown> | null = null;
/** One backend per process, picked on first use (a failed pick is retried next time). */
function ensureBackend(init: (pref: BackendPreference) => Promise<unknown>, preference: string): Promise<unknown> {
  backendReady ??= init(isBackendPreference(preference) ? preference : 'auto').catch((err: unknown) => {
    backendReady = null;
    throw err;
  });
  return backendReady;
}
