import { openDb, type Db } from './db';
import { RunStore } from './runs';
import { MetricStore } from './metrics';
import { SweepStore } from './sweeps';
import { ArtifactStore } from './artifacts';

/** The lab's whole persistent state, over one SQLite file. */
export class LabStore {
  readonly runs: RunStore;
  readonly metrics: MetricStore;
  readonly sweeps: SweepStore;
  readonly artifacts: ArtifactStore;
  constructor(
    readonly db: Db,
    readonly file: string,
  ) {
    this.runs = new RunStore(db);
    this.metrics = new MetricStore(db);
    this.sweeps = new SweepStore(db);
    this.artifacts = new ArtifactStore(db);
  }
  static open(file: string): LabStore {
    return new LabStore(openDb(file), file);
  }
  close(): void {
    this.db.close();
  }
}
