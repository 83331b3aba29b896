import { describe, expect, it } from 'vitest';
import { Rng, hashString } from '../../src-main/engine/synthetic/rng';
import {
  drawMask,
  generateDataset,
  maskMatrix,
  maskTarget,
  policyStats,
  preferenceProbability,
  utility,
  utilityMatrix,
} from '../../src-main/engine/synthetic/task';
import {
  DatasetError,
  checkDatasetMatchesConfig,
  datasetSummary,
  exportDataset,
  parseDataset,
  parseDatasetForConfig,
  type SyntheticDataset,
} from '../../src-main/engine/synthetic/dataset';

describe('Rng', () => {
  it('is deterministic per (seed, stream) and streams are independent', () => {
    const a = new Rng(7, 'x');
    const b = new Rng(7, 'x');
    const c = new Rng(7, 'y');
    const d = new Rng(8, 'x');
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
    expect(Array.from({ length: 5 }, () => d.nextUint32())).not.toEqual(xs);
    // seeds above 2^32 use the high half too
    expect(new Rng(2 ** 32, 0).nextUint32()).not.toBe(new Rng(0, 0).nextUint32());
    expect(hashString('abc')).toBe(0x1a47e90b); // FNV-1a reference value
  });

  it('gives uniform [0,1) numbers and standard normals', () => {
    const r = new Rng(1, 'stats');
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    const bins = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      bins[Math.floor(u * 10)]++;
    }
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(5 * Math.sqrt(n / 10));
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.015);
  });

  it('rejects bad seeds', () => {
    expect(() => new Rng(-1)).toThrow(/non-negative/);
    expect(() => new Rng(1.5)).toThrow(/non-negative/);
  });
});

describe('utility and Bradley–Terry', () => {
  it('u(y|x) = exp(−α(y−x)²)', () => {
    expect(utility(3, 3, 0.6)).toBe(1);
    expect(utility(5, 3, 0.6)).toBeCloseTo(Math.exp(-2.4), 15);
    expect(utility(1, 3, 0.6)).toBeCloseTo(0.0907179532894125, 15);
    const U = utilityMatrix(20, 0.6);
    expect(U[4][7]).toBeCloseTo(Math.exp(-0.6 * 9), 15);
    expect(U[7][4]).toBe(U[4][7]);
  });

  it('P(y1 ≻ y2) = u1/(u1+u2)', () => {
    const p = preferenceProbability(4, 6, 4, 0.6); // u = 1 vs e^{-2.4}
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-2.4)), 14);
    expect(preferenceProbability(6, 4, 4, 0.6)).toBeCloseTo(1 - p, 14);
    expect(preferenceProbability(3, 5, 4, 0.6)).toBe(0.5);
  });
});

describe('mask', () => {
  it('masks round(mask·K²) distinct cells, seeded', () => {
    for (const mask of [0, 0.2, 0.4, 0.37]) {
      for (const seed of [0, 1, 2]) {
        const cells = drawMask(20, mask, seed);
        expect(cells.length).toBe(Math.round(mask * 400));
        expect(new Set(cells.map(([x, y]) => x * 20 + y)).size).toBe(cells.length);
        for (const [x, y] of cells) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(20);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThan(20);
        }
      }
    }
    expect(maskTarget(20, 0.4)).toBe(160);
    expect(drawMask(20, 0.2, 3)).toEqual(drawMask(20, 0.2, 3));
    expect(drawMask(20, 0.2, 3)).not.toEqual(drawMask(20, 0.2, 4));
  });

  it('never leaves a prompt with fewer than 2 responses', () => {
    // 0.95·400 = 380 asked, but at most K(K−2) = 360 can be masked
    const cells = drawMask(20, 0.95, 0);
    expect(cells.length).toBe(360);
    const m = maskMatrix(20, cells);
    for (let x = 0; x < 20; x++) expect(m[x].filter((b) => !b).length).toBe(2);
    // K = 3, mask 0.5: round(4.5) = 5 asked, 3 possible
    const small = drawMask(3, 0.5, 1);
    expect(small.length).toBe(3);
    const ms = maskMatrix(3, small);
    for (let x = 0; x < 3; x++) expect(ms[x].filter((b) => !b).length).toBe(2);
    // moderately high masks still reach their target
    for (let seed = 0; seed < 5; seed++) {
      const c = drawMask(10, 0.7, seed);
      expect(c.length).toBe(70);
      const mm = maskMatrix(10, c);
      for (let x = 0; x < 10; x++) expect(mm[x].filter((b) => !b).length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('dataset generation', () => {
  it('draws pairsPerPrompt pairs per prompt, y1 ≠ y2, never a masked cell', () => {
    const ds = generateDataset({ K: 20, alpha: 0.6, mask: 0.4, seed: 3, pairsPerPrompt: 100 });
    expect(ds.pairs.length).toBe(2000);
    expect(ds.mask.length).toBe(160);
    const m = maskMatrix(20, ds.mask);
    const per = new Array(20).fill(0);
    for (const [x, w, l] of ds.pairs) {
      per[x]++;
      expect(w).not.toBe(l);
      expect(m[x][w]).toBe(false);
      expect(m[x][l]).toBe(false);
    }
    expect(per).toEqual(new Array(20).fill(100));
    expect(generateDataset({ K: 20, alpha: 0.6, mask: 0.4, seed: 3, pairsPerPrompt: 100 })).toEqual(ds);
  });

  it('draws responses uniformly over the unmasked ones', () => {
    const ds = generateDataset({ K: 6, alpha: 0.6, mask: 0.2, seed: 5, pairsPerPrompt: 30_000 });
    const m = maskMatrix(6, ds.mask);
    for (let x = 0; x < 6; x++) {
      const allowed = m[x].map((b, y) => (b ? -1 : y)).filter((y) => y >= 0);
      const counts = new Map<number, number>(allowed.map((y) => [y, 0]));
      for (const [px, w, l] of ds.pairs) {
        if (px !== x) continue;
        counts.set(w, counts.get(w)! + 1);
        counts.set(l, counts.get(l)! + 1);
      }
      // each response appears in a pair with probability 2/n
      const expected = (30_000 * 2) / allowed.length;
      const sd = Math.sqrt(30_000 * (2 / allowed.length) * (1 - 2 / allowed.length));
      for (const y of allowed) expect(Math.abs(counts.get(y)! - expected)).toBeLessThan(5 * sd);
    }
  });

  it('labels pairs with the Bradley–Terry frequencies', () => {
    const K = 5;
    const alpha = 0.6;
    const ds = generateDataset({ K, alpha, mask: 0, seed: 11, pairsPerPrompt: 40_000 });
    for (let x = 0; x < K; x++) {
      for (let a = 0; a < K; a++) {
        for (let b = a + 1; b < K; b++) {
          let aWins = 0;
          let total = 0;
          for (const [px, w, l] of ds.pairs) {
            if (px !== x) continue;
            if (w === a && l === b) {
              aWins++;
              total++;
            } else if (w === b && l === a) total++;
          }
          const ua = Math.exp(-alpha * (a - x) ** 2);
          const ub = Math.exp(-alpha * (b - x) ** 2);
          const p = ua / (ua + ub);
          const se = Math.sqrt((p * (1 - p)) / total);
          expect(total).toBeGreaterThan(3000);
          expect(Math.abs(aWins / total - p)).toBeLessThan(4.5 * se + 1e-3);
        }
      }
    }
  });
});

describe('dataset file', () => {
  const small: SyntheticDataset = {
    K: 4,
    alpha: 0.6,
    mask: [[1, 3]],
    pairs: [
      [0, 0, 1],
      [1, 1, 2],
      [3, 2, 0],
    ],
  };

  it('round-trips a generated dataset exactly', () => {
    const ds = generateDataset({ K: 20, alpha: 0.6, mask: 0.2, seed: 1, pairsPerPrompt: 50 });
    const text = exportDataset(ds);
    expect(Object.keys(JSON.parse(text))).toEqual(['K', 'alpha', 'mask', 'pairs']);
    expect(parseDataset(text)).toEqual(ds);
    expect(parseDatasetForConfig(JSON.parse(text), { K: 20, alpha: 0.6 })).toEqual(ds);
  });

  it('accepts a missing mask as no mask and ignores unknown keys', () => {
    const ds = parseDataset({ K: 3, alpha: 1, pairs: [[0, 1, 2]], note: 'from python' });
    expect(ds.mask).toEqual([]);
  });

  const bad = (patch: Partial<Record<keyof SyntheticDataset, unknown>>) => ({ ...small, ...patch });
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(DatasetError);
      return (err as Error).message;
    }
    throw new Error('expected an error');
  };

  it('names the field and the index of an out-of-range id', () => {
    const pairs = Array.from({ length: 18 }, () => [0, 1, 2]);
    pairs[17] = [3, 1, 25];
    expect(message(() => parseDataset({ K: 20, alpha: 0.6, mask: [], pairs }))).toBe('pairs[17][2]: 25 is out of range 0..19');
    expect(message(() => parseDataset(bad({ pairs: [[4, 0, 1]] })))).toBe('pairs[0][0]: 4 is out of range 0..3');
    expect(message(() => parseDataset(bad({ pairs: [[0, -1, 1]] })))).toBe('pairs[0][1]: -1 is out of range 0..3');
    expect(
      message(() =>
        parseDataset(
          bad({
            mask: [
              [2, 1],
              [2, 9],
            ],
          }),
        ),
      ),
    ).toBe('mask[1][1]: 9 is out of range 0..3');
  });

  it('rejects a masked cell, winner = loser, duplicates and malformed entries', () => {
    expect(
      message(() =>
        parseDataset(
          bad({
            pairs: [
              [0, 0, 1],
              [1, 3, 0],
            ],
          }),
        ),
      ),
    ).toBe('pairs[1][1]: cell [1, 3] (prompt 1, winner 3) is masked');
    expect(message(() => parseDataset(bad({ pairs: [[1, 0, 3]] })))).toBe('pairs[0][2]: cell [1, 3] (prompt 1, loser 3) is masked');
    expect(
      message(() =>
        parseDataset(
          bad({
            pairs: [
              [0, 0, 1],
              [2, 2, 2],
            ],
          }),
        ),
      ),
    ).toBe('pairs[1]: winner and loser are the same response (2)');
    expect(
      message(() =>
        parseDataset(
          bad({
            mask: [
              [1, 3],
              [1, 3],
            ],
          }),
        ),
      ),
    ).toBe('mask[1]: cell [1, 3] is listed twice');
    expect(message(() => parseDataset(bad({ pairs: [[0, 1]] })))).toMatch(/^pairs\[0\]: /);
    expect(message(() => parseDataset(bad({ pairs: [[0, 1.5, 2]] })))).toBe('pairs[0][1]: expected an integer id');
    expect(message(() => parseDataset(bad({ pairs: [] })))).toBe('pairs: the dataset has no pairs');
    expect(message(() => parseDataset(bad({ pairs: undefined })))).toMatch(/^pairs: /);
    expect(message(() => parseDataset(bad({ K: 1 })))).toBe('K: expected an integer ≥ 2');
    expect(message(() => parseDataset(bad({ alpha: -1 })))).toBe('alpha: expected a positive number');
    expect(message(() => parseDataset('{"K": 3,'))).toMatch(/^\(root\): not valid JSON/);
    expect(message(() => parseDataset([1, 2]))).toMatch(/^\(root\): expected an object/);
  });

  it('reports several issues at once, with a path prefix', () => {
    const msg = message(() =>
      parseDatasetForConfig(
        bad({
          pairs: [
            [0, 9, 1],
            [0, 1, 1],
          ],
        }),
        { K: 4, alpha: 0.6 },
        'dataset',
      ),
    );
    expect(msg).toBe('dataset.pairs[0][1]: 9 is out of range 0..3; dataset.pairs[1]: winner and loser are the same response (1)');
  });

  it('names both values when K or alpha disagree with the run config', () => {
    expect(message(() => parseDatasetForConfig(small, { K: 20, alpha: 0.6 }))).toBe('K: the dataset has K = 4 but the run config has K = 20');
    expect(message(() => parseDatasetForConfig(small, { K: 4, alpha: 0.5 }))).toBe('alpha: the dataset has alpha = 0.6 but the run config has alpha = 0.5');
    expect(message(() => checkDatasetMatchesConfig(small, { K: 5, alpha: 1 }, 'dataset'))).toBe(
      'dataset.K: the dataset has K = 4 but the run config has K = 5; dataset.alpha: the dataset has alpha = 0.6 but the run config has alpha = 1',
    );
  });

  it('summarises pairs, masked cells and per-prompt counts', () => {
    const s = datasetSummary(small);
    expect(s.pairs).toBe(3);
    expect(s.maskedCells).toBe(1);
    expect(s.maskedFraction).toBe(1 / 16);
    expect(s.perPrompt).toEqual([1, 1, 0, 1]);
    expect(s.maskedPerPrompt).toEqual([0, 1, 0, 0]);
    // [0,0,1]: winner closer (1); [1,1,2]: closer (1); [3,2,0]: closer (1)
    expect(s.agreesWithUtility).toBe(1);
  });
});

describe('policyStats (plain JS eval metrics)', () => {
  it('computes expected utility, pBest, OOD mass and KL', () => {
    const K = 3;
    const uniform = Array.from({ length: K }, () => [1 / 3, 1 / 3, 1 / 3]);
    const st = policyStats(uniform, uniform, 0.6, [[0, 2]]);
    const U = utilityMatrix(K, 0.6);
    expect(st.expectedUtility).toBeCloseTo(U.flat().reduce((a, b) => a + b, 0) / 3, 14);
    expect(st.pBest).toBeCloseTo(1 / 3, 14);
    expect(st.oodMass).toBeCloseTo(1 / 9, 14);
    expect(st.klToRef).toBe(0);
    const peaked = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const st2 = policyStats(peaked, uniform, 0.6, []);
    expect(st2.expectedUtility).toBe(3);
    expect(st2.pBest).toBe(1);
    expect(st2.klToRef).toBeCloseTo(Math.log(3), 14);
  });
});
