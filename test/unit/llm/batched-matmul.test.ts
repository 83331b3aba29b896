/**
 * batchedMatMul on WASM goes slice by slice above a size, with a gradient of its own: values and gradients must
 * equal tfjs's batched matMul (checked on the pure-JS backend, which runs the plain kernel).
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '../../../src-main/engine/tf';
import { batchedMatMul } from '../../../src-main/engine/llm/models/layers';
import { Rng } from '../../../src-main/engine/synthetic/rng';

const require = createRequire(import.meta.url);
afterAll(async () => {
  await tf.setBackend('cpu');
});

function data(n: number, seed: number): Float32Array {
  const r = new Rng(seed, 'bmm');
  return Float32Array.from({ length: n }, () => r.normal());
}

async function run(backend: 'cpu' | 'wasm', shapeA: number[], shapeB: number[], transposeB: boolean) {
  if (backend === 'wasm') setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  expect(await tf.setBackend(backend)).toBe(true);
  const a = tf.tensor3d(
    data(
      shapeA.reduce((x, y) => x * y),
      1,
    ),
    shapeA as [number, number, number],
  );
  const b = tf.tensor3d(
    data(
      shapeB.reduce((x, y) => x * y),
      2,
    ),
    shapeB as [number, number, number],
  );
  const w = tf.tensor3d(data(shapeA[0] * shapeA[1] * (transposeB ? shapeB[1] : shapeB[2]), 3), [shapeA[0], shapeA[1], transposeB ? shapeB[1] : shapeB[2]]);
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(batchedMatMul(x as tf.Tensor3D, y as tf.Tensor3D, transposeB), w));
  const value = batchedMatMul(a, b, transposeB).dataSync().slice();
  const [ga, gb] = tf.grads(f)([a, b]);
  const out = { value: Float32Array.from(value), ga: Float32Array.from(ga.dataSync()), gb: Float32Array.from(gb.dataSync()) };
  tf.dispose([a, b, w, ga, gb]);
  return out;
}

function close(x: Float32Array, y: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  return worst;
}

describe('batchedMatMul', () => {
  it.each([
    ['q·kᵀ, slice by slice', [3, 96, 64], [3, 80, 64], true],
    ['p·v, slice by slice', [3, 96, 80], [3, 80, 64], false],
    ['small slices, batched kernel', [5, 8, 4], [5, 6, 4], true],
  ] as const)('%s: WASM value and gradients equal the plain kernel', async (_name, sa, sb, tb) => {
    const ref = await run('cpu', [...sa], [...sb], tb);
    const got = await run('wasm', [...sa], [...sb], tb);
    expect(close(got.value, ref.value)).toBeLessThan(1e-4);
    expect(close(got.ga, ref.ga)).toBeLessThan(1e-4);
    expect(close(got.gb, ref.gb)).toBeLessThan(1e-4);
  });
});
