import { LabStore } from '../store';
import { isRetryableWriteFailure } from '../store/failures';
import { RunManager } from '../runner/manager';
import { EvalRunner } from '../runner/eval-runner';
import { ScorerRunner } from '../runner/scorer-runner';
import { BenchRunner } from '../runner/bench-runner';
import type { WorkerLauncher } from '../runner/protocol';
import type { BackendPreference } from '@shared/backends';
import { LabService } from './service';
import { finishOrphanedSweeps } from './sweeps';
import type { AppInfo } from '@shared/contract';
import pkg from '../../package.json';

export interface Lab {
  store: LabStore;
  manager: RunManager;
  service: LabService;
  evals: EvalRunner;
  scorers: ScorerRunner;
  benches: BenchRunner;
  close(): void;
}

/** Wires store, manager and service together: the same lab behind every front door. */
export function createLab(opts: { dbFile: string; mode: AppInfo['mode']; launcher: WorkerLauncher; backend?: BackendPreference; concurrency?: number }): Lab {
  const store = LabStore.open(opts.dbFile);
  store.runs.failOrphans();
  try {
    finishOrphanedSweeps(store);
  } catch (err) {
    // a full disk or read-only file: the lab still opens for reading; the sweeps are closed at a later start
    if (!isRetryableWriteFailure(err)) throw err;
  }
  const backend = opts.backend ?? (process.env.DPO_LAB_BACKEND as BackendPreference | undefined) ?? 'auto';
  try {
    store.evals.failOrphans();
    store.scorers.failOrphans();
    store.benches.failOrphans();
  } catch (err) {
    if (!isRetryableWriteFailure(err)) throw err;
  }
  const manager = new RunManager(store, opts.launcher, { backend, concurrency: opts.concurrency });
  // evaluations speak on the run manager's event stream, so every front door relays them
  const evals = new EvalRunner(store, opts.launcher, (e) => manager.publish(e), { backend });
  const scorers = new ScorerRunner(store, opts.launcher, (e) => manager.publish(e), { backend });
  const benches = new BenchRunner(store, opts.launcher, (e) => manager.publish(e), { backend });
  const service = new LabService({ store, manager, mode: opts.mode, version: pkg.version, backendPreference: backend, evals, scorers, benches });
  return {
    store,
    manager,
    service,
    evals,
    scorers,
    benches,
    close() {
      evals.shutdown();
      scorers.shutdown();
      benches.shutdown();
      manager.shutdown();
      store.close();
    },
  };
}

export const LAB_VERSION: string = pkg.version;
