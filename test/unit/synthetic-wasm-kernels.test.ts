/**
 * The WASM kernels of the synthetic trainer (wasm-kernels.ts) against their plain-tfjs twins (what the same
 * functions compute on the pure-JS backend), on odd shapes, and their batch invariance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamUpdate, batchMatMul, batchMatMulUsesWasmKernel, rowSumSquares, splitRows } from '../../src-main/engine/synthetic/wasm-kernels';
import { Rng } from '../../src-main/engine/synthetic/rng';

const require = createRequire(import.meta.url);

beforeAll(async () => {
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

function random(shape: number[], seed: number): { shape: number[]; values: Float32Array } {
  const rng = new Rng(seed, 'kernels');
  return { shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) };
}

/** Runs f on 'wasm' (the kernels) and on 'cpu' (the tfjs twins) with the same inputs; returns both outputs. */
async function onBoth(
  inputs: { shape: number[]; values: Float32Array }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<[Float32Array[], Float32Array[]]> {
  const runOn = async (backend: string) => {
    await tf.setBackend(backend);
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
    const out = f(...xs);
    const res = (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
    tf.dispose([...xs, ...(Array.isArray(out) ? out : [out])]);
    return res;
  };
  const cpu = await runOn('cpu');
  const wasm = await runOn('wasm');
  return [wasm, cpu];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('WASM kernels', () => {
  it('batchMatMul matches tf.matMul for every transpose, odd sizes and a repeating operand', async () => {
    expect(batchMatMulUsesWasmKernel(4)).toBe(true);
    expect(batchMatMulUsesWasmKernel(3)).toBe(false);
    const cases: [number, number, number, number, number, boolean, boolean][] = [
      // aBatch, bBatch, M, K, N, transposeA, transposeB
      [3, 3, 20, 64, 20, false, false],
      [2, 2, 5, 7, 6, false, false],
      [2, 2, 64, 20, 20, true, false],
      [4, 2, 20, 20, 64, false, true],
      [2, 6, 7, 5, 9, true, false],
      [1, 1, 1, 1, 4, false, false],
      [2, 2, 9, 3, 5, true, true],
    ];
    for (const [ab, bb, M, K, N, tA, tB] of cases) {
      const a = random(tA ? [ab, K, M] : [ab, M, K], 1);
      const b = random(tB ? [bb, N, K] : [bb, K, N], 2);
      const [[got], [want]] = await onBoth([a, b], (x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D, tA, tB));
      expect(maxAbsDiff(got, want), JSON.stringify([ab, bb, M, K, N, tA, tB])).toBeLessThan(1e-4);
    }
  });

  it('batchMatMul gives each batch entry the same bits whatever the batch size', () => {
    const a = tf.tensor(random([5, 20, 64], 3).values, [5, 20, 64]) as tf.Tensor3D;
    const b = tf.tensor(random([5, 64, 20], 4).values, [5, 64, 20]) as tf.Tensor3D;
    const all = batchMatMul(a, b).dataSync();
    const one = batchMatMul(a.slice([2], [1]), b.slice([2], [1])).dataSync();
    expect(Array.from(one)).toEqual(Array.from(all.subarray(2 * 400, 3 * 400)));
    tf.dispose([a, b]);
  });

  it('adamUpdate gives the same bits as the tfjs ops, per-run learning rates included', async () => {
    for (const shape of [
      [3, 20, 64],
      [2, 1, 5],
      [4, 7, 3],
    ]) {
      const [p, m, g] = [1, 2, 3].map((s) => random(shape, s));
      const v = { shape, values: random(shape, 4).values.map((x) => x * x) };
      const lr = { shape: [shape[0]], values: Float32Array.from({ length: shape[0] }, (_, r) => 0.01 * (r + 1)) };
      const c = { c2: 1.3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
      const [got, want] = await onBoth([p, m, v, g, lr], (P, M, V, G, L) => {
        const u = adamUpdate(P, M, V, G, { perRun: L as tf.Tensor1D, same: null }, c);
        return [u.p, u.m, u.v];
      });
      got.forEach((x, i) => expect(Array.from(x), `${shape} output ${i}`).toEqual(Array.from(want[i])));
    }
  });

  it('rowSumSquares matches the tfjs ops, with and without a subtrahend, for any row length', async () => {
    const xs = [random([3, 20, 64], 5), random([3, 1, 7], 6), random([3, 3, 1], 7)];
    const ys = [random([3, 20, 64], 8), random([3, 1, 7], 9), random([3, 3, 1], 10)];
    const [[plain, diff], [plainT, diffT]] = await onBoth([...xs, ...ys], (...t) => [rowSumSquares(t.slice(0, 3)), rowSumSquares(t.slice(0, 3), t.slice(3))]);
    for (let r = 0; r < 3; r++) {
      expect(plain[r]).toBeCloseTo(plainT[r], 2);
      expect(Math.abs(plain[r] / plainT[r] - 1)).toBeLessThan(1e-5);
      expect(Math.abs(diff[r] / diffT[r] - 1)).toBeLessThan(1e-5);
    }
  });

  it('splitRows matches tf.split along axis 0', async () => {
    const x = random([7, 3, 2], 11);
    const [got, want] = await onBoth([x], (t) => splitRows(t, [2, 0, 4, 1]));
    expect(got.length).toBe(4);
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i])));
  });
});
