/** How the store takes a sweep's writes: snapshots grouped per tick, rows per batch. */
import { afterAll, describe, expect, it } from 'vitest';
import { LabStore } from '../../src-main/store';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const matrix = (v: number) => [
  [v, 1 - v],
  [1 - v, v],
];
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('snapshot writes', () => {
  it('are readable at once, committed together by the end of the tick, and visible to other connections then', async () => {
    const file = tmp.file('snap.db');
    const store = LabStore.open(file);
    const other = LabStore.open(file);
    const run = store.runs.create({ name: 'a', kind: 'synthetic', config: {} });
    for (let step = 0; step < 5; step++) store.metrics.appendSnapshot(run, step, 'probs', matrix(step / 10));
    // same store: flushed on read
    expect(store.metrics.snapshots(run, 'probs').steps).toEqual([0, 1, 2, 3, 4]);
    store.metrics.appendSnapshot(run, 5, 'probs', matrix(0.5));
    expect(other.metrics.snapshots(run, 'probs').steps).toEqual([0, 1, 2, 3, 4]);
    await tick();
    const got = other.metrics.snapshots(run, 'probs');
    expect(got.steps).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.frames[5]).toEqual(matrix(0.5));
    expect(other.runs.get(run)!.snapshotNames).toEqual(['probs']);
    other.close();
    store.close();
  });

  it("drop a snapshot whose run was deleted before the commit, keeping the others'", async () => {
    const store = LabStore.open(tmp.file('gone.db'));
    const keep = store.runs.create({ name: 'keep', kind: 'synthetic', config: {} });
    const gone = store.runs.create({ name: 'gone', kind: 'synthetic', config: {} });
    store.metrics.appendSnapshot(keep, 0, 'probs', matrix(0.1));
    store.metrics.appendSnapshot(gone, 0, 'probs', matrix(0.2));
    store.metrics.appendSnapshot(keep, 1, 'probs', matrix(0.3));
    store.runs.delete(gone);
    await tick();
    expect(store.metrics.snapshots(keep, 'probs').steps).toEqual([0, 1]);
    expect(store.metrics.snapshots(gone, 'probs').steps).toEqual([]);
    store.close();
  });

  it('are not flushed into a closed database (no error after close)', async () => {
    const store = LabStore.open(tmp.file('closed.db'));
    const run = store.runs.create({ name: 'a', kind: 'synthetic', config: {} });
    store.metrics.appendSnapshot(run, 0, 'probs', matrix(0.1));
    store.close();
    await tick(); // the pending flush finds the database closed and does nothing
  });
});

describe('metric rows', () => {
  it('keep every row of interleaved per-run batches, a re-sent step overwriting its row', () => {
    const store = LabStore.open(tmp.file('rows.db'));
    const runs = [0, 1, 2].map((i) => store.runs.create({ name: `r${i}`, kind: 'synthetic', config: {} }));
    const names = ['loss', 'grad_norm'];
    for (let s0 = 1; s0 <= 30; s0 += 10)
      for (const run of runs) {
        const steps: number[] = [];
        const nameIdx: number[] = [];
        const values: number[] = [];
        for (let s = s0; s < s0 + 10; s++)
          for (let k = 0; k < 2; k++) {
            steps.push(s);
            nameIdx.push(k);
            values.push(run * 1000 + s + k / 10);
          }
        store.metrics.append(run, { steps, nameIdx, names, values });
      }
    store.metrics.append(runs[1], { steps: [5], nameIdx: [0], names, values: [-1] });
    for (const run of runs) {
      const series = store.metrics.series(run);
      expect(series.loss.steps).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(series.grad_norm.values[29]).toBeCloseTo(run * 1000 + 30.1, 10);
      expect(series.loss.values[4]).toBe(run === runs[1] ? -1 : run * 1000 + 5);
    }
    store.close();
  });
});
