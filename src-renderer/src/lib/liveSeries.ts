/**
 * Metric series of one run, kept out of Vue's reactivity: plain arrays of [step, value] points that charts hand
 * to ECharts as they are. The initial load (runs:metrics) and live events (run:metrics) merge without gaps or
 * duplicates: events that arrive while the load is in flight are held and applied after it, and per metric
 * only steps beyond the last one held are appended.
 */
import { markRaw } from 'vue';
import type { LabEvent, Series } from '@shared/contract';
import { lab, onEvent, onReconnect } from '../api/client';

export type Point = [number, number | null];
type MetricsEvent = Extract<LabEvent, { type: 'run:metrics' }>;

const EMPTY: Point[] = [];

export class RunSeries {
  private readonly data = new Map<string, Point[]>();
  private readonly lastStep = new Map<string, number>();
  private readonly subs = new Set<(changed: ReadonlySet<string>) => void>();
  /** Highest step seen in any metric. */
  latestStep = -1;
  /** Total points held, all metrics together. */
  size = 0;

  constructor(readonly runId: number) {
    markRaw(this);
  }

  names(): string[] {
    return [...this.data.keys()];
  }

  points(name: string): Point[] {
    return this.data.get(name) ?? EMPTY;
  }

  last(name: string): number | null {
    const p = this.data.get(name);
    return p && p.length ? p[p.length - 1][1] : null;
  }

  first(name: string): number | null {
    const p = this.data.get(name);
    return p && p.length ? p[0][1] : null;
  }

  private push(name: string, step: number, value: number | null, changed: Set<string>): void {
    const prev = this.lastStep.get(name);
    if (prev !== undefined && step <= prev) return;
    let arr = this.data.get(name);
    if (!arr) this.data.set(name, (arr = []));
    arr.push([step, value]);
    this.lastStep.set(name, step);
    if (step > this.latestStep) this.latestStep = step;
    this.size++;
    changed.add(name);
  }

  loadSeries(rec: Record<string, Series>): void {
    const changed = new Set<string>();
    for (const [name, s] of Object.entries(rec)) {
      for (let i = 0; i < s.steps.length; i++) this.push(name, s.steps[i], s.values[i], changed);
    }
    this.notify(changed);
  }

  appendRows(e: Pick<MetricsEvent, 'steps' | 'names' | 'nameIdx' | 'values'>): void {
    const changed = new Set<string>();
    for (let i = 0; i < e.steps.length; i++) this.push(e.names[e.nameIdx[i]], e.steps[i], e.values[i], changed);
    this.notify(changed);
  }

  /** Smallest last step over all metrics: everything after it may be missing somewhere. */
  resumeStep(): number {
    let m = Infinity;
    for (const s of this.lastStep.values()) m = Math.min(m, s);
    return Number.isFinite(m) ? m : -1;
  }

  subscribe(cb: (changed: ReadonlySet<string>) => void): () => void {
    this.subs.add(cb);
    return () => this.subs.delete(cb);
  }

  private notify(changed: Set<string>): void {
    if (!changed.size) return;
    for (const s of [...this.subs]) s(changed);
  }
}

export interface OpenedSeries {
  series: RunSeries;
  ready: Promise<void>;
  close(): void;
}

/**
 * Loads a run's metrics and keeps appending live rows until close(). While a load is in flight (the first one, or
 * the resync after the event stream reconnects) live rows are held and applied after it: applied first, they would
 * move each metric's last step past the rows the load brings back, and those rows would be dropped as old.
 */
export function openRunSeries(runId: number, opts: { live?: boolean } = {}): OpenedSeries {
  const series = new RunSeries(runId);
  const live = opts.live ?? true;
  let held: MetricsEvent[] | null = null;
  const offs: (() => void)[] = [];
  // Loads run one after another; rows arriving meanwhile wait until the last one has been applied.
  let chain: Promise<void> = Promise.resolve();
  let loading = 0;
  const load = (resync: boolean): Promise<void> => {
    loading++;
    held ??= [];
    const p = chain
      .catch(() => undefined)
      .then(() => lab['runs:metrics'](resync ? { id: runId, afterStep: series.resumeStep() } : { id: runId }))
      .then((rec) => series.loadSeries(rec))
      .finally(() => {
        if (--loading > 0) return;
        const pending = held ?? [];
        held = null;
        for (const e of pending) series.appendRows(e);
      });
    chain = p;
    return p;
  };
  if (live) {
    offs.push(
      onEvent((e) => {
        if (e.type !== 'run:metrics' || e.runId !== runId) return;
        if (held) held.push(e);
        else series.appendRows(e);
      }),
    );
    offs.push(
      onReconnect(() => {
        load(true).catch(() => undefined);
      }),
    );
  }
  const ready = load(false);
  return { series, ready, close: () => offs.forEach((f) => f()) };
}
