/**
 * OpenBLAS under the WASM backend's BatchMatMul (src-main/engine/llm/native-gemm.ts): every shape tfjs's matMul
 * takes (plain, transposed either side, batched, one side broadcast, empty, K = 0) against a float64 product,
 * gradients through it, the shapes it hands back to WASM's kernel, and the addon refusing to read past an array.
 * In CI (CI=true) the addon must have been built: .ci/run installs OpenBLAS, so a failed build fails here.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { installNativeGemm, nativeGemmActive, removeNativeGemm } from '../../../src-main/engine/llm/native-gemm';
import { Rng } from '../../../src-main/engine/synthetic/rng';

const require = createRequire(import.meta.url);
const addonFile = fileURLToPath(new URL('../../../native/gemm/build/Release/dpo_gemm.node', import.meta.url));
const built = fs.existsSync(addonFile);

beforeAll(async () => {
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  expect(await tf.setBackend('wasm')).toBe(true);
});
afterAll(async () => {
  removeNativeGemm();
  await tf.setBackend('cpu');
});

it('the addon is built where CI installed OpenBLAS', () => {
  if (!process.env.CI) return;
  expect(built, `${addonFile} missing: npm run build:native says why`).toBe(true);
});

/** float64 product of row-major [batch, m, k]·[batch, k, n] with optional transposes and broadcast (batch 1). */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { shape: number[]; values: Float64Array } {
  const av = a.dataSync();
  const bv = b.dataSync();
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = outer.reduce((x, d) => x * d, 1);
  const batchA = a.size / (m * k || 1);
  const batchB = b.size / (k * n || 1);
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const oa = (batchA === 1 ? 0 : p) * m * k;
    const ob = (batchB === 1 ? 0 : p) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += av[oa + (ta ? q * m + i : i * k + q)] * bv[ob + (tb ? j * k + q : q * n + j)];
        out[p * m * n + i * n + j] = s;
      }
  }
  return { shape: [...outer, m, n], values: out };
}

const rng = new Rng(3, 'native-gemm');
const rand = (shape: number[]) =>
  tf.tensor(
    Array.from({ length: shape.reduce((x, d) => x * d, 1) }, () => rng.uniform(-1, 1)),
    shape,
    'float32',
  );

const CASES: { name: string; a: number[]; b: number[]; ta?: boolean; tb?: boolean }[] = [
  { name: 'plain', a: [5, 7], b: [7, 3] },
  { name: 'A transposed', a: [7, 5], b: [7, 3], ta: true },
  { name: 'B transposed', a: [5, 7], b: [3, 7], tb: true },
  { name: 'both transposed', a: [7, 5], b: [3, 7], ta: true, tb: true },
  { name: 'batched', a: [4, 5, 7], b: [4, 7, 3] },
  { name: 'batched, rank 4, B transposed (attention scores)', a: [2, 3, 6, 4], b: [2, 3, 6, 4], tb: true },
  { name: 'B broadcast over A’s batch', a: [2, 3, 5, 7], b: [7, 3] },
  { name: 'A broadcast over B’s batch, A transposed', a: [1, 7, 5], b: [3, 7, 2], ta: true },
  { name: 'one row (a vector times a matrix)', a: [1, 64], b: [64, 129] },
  { name: 'large enough for OpenBLAS to block it', a: [70, 300], b: [300, 130] },
  { name: 'empty: no rows', a: [0, 7], b: [7, 3] },
  { name: 'K = 0: zeros', a: [4, 0], b: [0, 3] },
];

describe.skipIf(!built)('native sgemm under WASM’s BatchMatMul', () => {
  beforeAll(() => {
    expect(installNativeGemm()).toBeNull();
    expect(nativeGemmActive()).toBe(true);
  });

  it.each(CASES)('$name: equals a float64 product', ({ a: sa, b: sb, ta = false, tb = false }) => {
    const a = rand(sa);
    const b = rand(sb);
    const got = tf.matMul(a, b, ta, tb);
    const want = reference(a, b, ta, tb);
    expect(got.shape).toEqual(want.shape);
    const g = got.dataSync();
    for (let i = 0; i < want.values.length; i++) expect(Math.abs(g[i] - want.values[i])).toBeLessThan(1e-5 * (1 + Math.abs(want.values[i])));
    tf.dispose([a, b, got]);
  });

  it('gradients through it equal the float64 ones (dA = dC·Bᵀ, dB = Aᵀ·dC), batched and transposed', () => {
    const a = rand([3, 6, 5]);
    const b = rand([3, 4, 5]);
    const w = rand([3, 6, 4]);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, false, true), w)))([a, b]);
    const wv = w.dataSync();
    const av = a.dataSync();
    const bv = b.dataSync();
    const daWant = new Float64Array(a.size);
    const dbWant = new Float64Array(b.size);
    for (let p = 0; p < 3; p++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 4; j++)
          for (let q = 0; q < 5; q++) {
            daWant[p * 30 + i * 5 + q] += wv[p * 24 + i * 4 + j] * bv[p * 20 + j * 5 + q];
            dbWant[p * 20 + j * 5 + q] += wv[p * 24 + i * 4 + j] * av[p * 30 + i * 5 + q];
          }
    const dav = da.dataSync();
    const dbv = db.dataSync();
    daWant.forEach((v, i) => expect(dav[i]).toBeCloseTo(v, 5));
    dbWant.forEach((v, i) => expect(dbv[i]).toBeCloseTo(v, 5));
    tf.dispose([a, b, w, da, db]);
  });

  it('hands WASM’s own kernel the batches that broadcast both ways (same values as without OpenBLAS)', () => {
    const a = rand([3, 1, 2, 4]);
    const b = rand([1, 2, 4, 3]);
    const c = tf.matMul(a, b);
    expect(c.shape).toEqual([3, 2, 2, 3]);
    removeNativeGemm();
    const wasm = tf.matMul(a, b);
    expect(installNativeGemm()).toBeNull();
    expect(Array.from(c.dataSync())).toEqual(Array.from(wasm.dataSync()));
    tf.dispose([a, b, c, wasm]);
  });

  it('the addon refuses shapes that reach past an array, naming what is wrong', () => {
    const addon = require(addonFile) as { sgemm: (...args: unknown[]) => void };
    const a = new Float32Array(6);
    const c = new Float32Array(4);
    expect(() => addon.sgemm(a, a, c, 2, 2, 2, 3, false, false, 6, 0, 4)).toThrow(/past an array's end/);
    expect(() => addon.sgemm([1, 2], a, c, 1, 1, 1, 1, false, false, 0, 0, 0)).toThrow(/a must be a Float32Array/);
    expect(() => addon.sgemm(a, a, c, 1, -1, 2, 3, false, false, 0, 0, 0)).toThrow(/m must be a whole number/);
  });

  it('removeNativeGemm gives the product back to WASM, with the same values', () => {
    const a = rand([9, 33]);
    const b = rand([33, 17]);
    const native = tf.matMul(a, b).dataSync().slice();
    removeNativeGemm();
    expect(nativeGemmActive()).toBe(false);
    const wasm = tf.matMul(a, b).dataSync();
    native.forEach((v, i) => expect(v).toBeCloseTo(wasm[i], 5));
    expect(installNativeGemm()).toBeNull();
    tf.dispose([a, b]);
  });
});
