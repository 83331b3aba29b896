import { openDb, type Db } from './db';
import { RunStore } from './runs';
import { MetricStore } from './metrics';
import { SweepStore } from './sweeps';
import { ArtifactStore } from './artifacts';
import { EvalStore } from './evals';
import { ScorerStore } from './scorers';
import { BenchStore } from './benches';
import { CustomLossStore } from './custom-losses';

/** The lab's whole persistent state, over one SQLite file. */
export class LabStore {
  readonly runs: RunStore;
  readonly metrics: MetricStore;
  readonly sweeps: SweepStore;
  readonly artifacts: ArtifactStore;
  readonly evals: EvalStore;
  readonly scorers: ScorerStore;
  readonly benches: BenchStore;
  readonly customLosses: CustomLossStore;
  constructor(
    readonly db: Db,
    readonly file: string,
  ) {
    this.runs = new RunStore(db);
    this.metrics = new MetricStore(db);
    this.sweeps = new SweepStore(db);
    this.artifacts = new ArtifactStore(db);
    this.evals = new EvalStore(db);
    this.scorers = new ScorerStore(db);
    this.benches = new BenchStore(db);
    this.customLosses = new CustomLossStore(db);
  }
  static open(file: string): LabStore {
    return new LabStore(openDb(file), file);
  }
  /** Writes what is held in memory (outcomes a full disk refused) if it now can, then closes the file. */
  close(): void {
    this.runs.stopRetry();
    if (this.db.open) {
      try {
        this.runs.flushUnsaved();
      } catch {
        // still unwritable: the next start settles those runs from the file (failOrphans)
      }
    }
    this.db.close();
  }
}
