/**
 * OpenBLAS's sgemm as the WASM backend's BatchMatMul, for LLM work.
 *
 * tfjs's WASM matMul runs ~27 GFLOP/s on one core here, OpenBLAS ~100 (npm run bench:llm has both). The addon
 * (native/gemm, built after npm install where OpenBLAS's headers are) gets views of the WASM heap, so operands
 * and product stay where tfjs keeps them; tfjs's own kernel still serves what this one does not take (integer
 * tensors, batch shapes that broadcast both ways). Transposed operands cost nothing here, unlike in WASM.
 * Synthetic runs keep WASM's own kernel: their matrices are tiny and their numbers are the tested reference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '../tf';
import type { BackendInfo } from '../backend';

interface GemmAddon {
  sgemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    strideC: number,
  ): void;
  threads(n?: number): number;
  describe(): { core: string; config: string };
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

const ADDON = path.join('native', 'gemm', 'build', 'Release', 'dpo_gemm.node');

/** The addon file, looked for upward from this module (source tree, electron-vite's out/, or app.asar.unpacked). */
function addonPath(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url)).replace(/([\\/])app\.asar(?=[\\/]|$)/, '$1app.asar.unpacked');
  for (;;) {
    const file = path.join(dir, ADDON);
    if (fs.existsSync(file)) return file;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

type Loaded = { addon: GemmAddon; core: string; version: string } | { addon: null; why: string };
let loaded: Loaded | null = null;

function load(): Loaded {
  if (loaded) return loaded;
  if (process.env.DPO_LAB_NATIVE_GEMM === '0') return (loaded = { addon: null, why: 'native sgemm off (DPO_LAB_NATIVE_GEMM=0)' });
  const file = addonPath();
  if (!file) return (loaded = { addon: null, why: 'native sgemm not built (needs OpenBLAS: apt-get install libopenblas-dev, then npm run build:native)' });
  try {
    const addon = createRequire(import.meta.url)(file) as GemmAddon;
    // One thread per training thread until the trainer says otherwise (setNativeGemmThreads).
    addon.threads(1);
    // config reads e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH …"
    const { core, config } = addon.describe();
    return (loaded = { addon, core, version: config.split(' ')[1] ?? 'unknown' });
  } catch (err) {
    return (loaded = { addon: null, why: `native sgemm failed to load: ${(err as Error).message.split('\n')[0]}` });
  }
}

const prod = (xs: number[]) => xs.reduce((a, d) => a * d, 1);

function batchMatMulKernel(addon: GemmAddon, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = prod(outer);
    const batchA = prod(outerA);
    const batchB = prod(outerB);
    // Each operand is either one matrix for every product or one per product; anything else is tfjs's.
    if (k !== kb || (batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return fallback(args);
    const w = args.backend as unknown as WasmBackendLike;
    const out = w.makeOutput([...outer, m, n], 'float32');
    if (batch * m * n === 0) return out;
    // Views are taken after makeOutput: allocating may grow the heap and detach older views.
    const av = w.typedArrayFromHeap(a) as Float32Array;
    const bv = w.typedArrayFromHeap(b) as Float32Array;
    const cv = w.typedArrayFromHeap(out) as Float32Array;
    addon.sgemm(av, bv, cv, batch, m, n, k, transposeA, transposeB, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, m * n);
    return out;
  };
}

let original: tf.KernelConfig | null = null;

/** Whether matrix products on the WASM backend go to OpenBLAS in this thread. */
export function nativeGemmActive(): boolean {
  return original !== null && tf.getBackend() === 'wasm';
}

/** OpenBLAS threads for this process's products (a two-thread LoRA run wants one each, a one-thread run all cores). */
export function setNativeGemmThreads(n: number): void {
  const l = load();
  if (l.addon) l.addon.threads(Math.max(1, Math.floor(n)));
}

/** Why OpenBLAS cannot serve this process (not built, off, failed to load), or null when it can. */
export function nativeGemmMissing(): string | null {
  const l = load();
  return l.addon ? null : l.why;
}

/** Puts OpenBLAS under the WASM backend's BatchMatMul in this thread; returns why not, or null when it is there. */
export function installNativeGemm(): string | null {
  const l = load();
  if (!l.addon) return l.why;
  if (original) return null;
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  if (!kernel) return 'the WASM backend has no BatchMatMul kernel';
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...kernel, kernelFunc: batchMatMulKernel(l.addon, kernel.kernelFunc) });
  original = kernel;
  return null;
}

/** Gives BatchMatMul back to WASM's own kernel (tests and benches compare the two in one process). */
export function removeNativeGemm(): void {
  if (!original) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(original);
  original = null;
}

/**
 * installNativeGemm on the WASM backend, said in the backend's label and notes (what the run page's top bar and
 * the run's stored backend show). Other backends are left as they are. Call after initBackend, in each thread
 * that trains.
 */
export function attachNativeGemm(info: BackendInfo): BackendInfo {
  if (info.name !== 'wasm') return info;
  const why = installNativeGemm();
  if (why) return { ...info, notes: [...info.notes, why], label: `${info.label}${info.label.includes(' — ') ? ', ' : ' — '}${why}` };
  // installed, so loaded
  const l = load() as Extract<Loaded, { addon: GemmAddon }>;
  const [head, ...rest] = info.label.split(' — ');
  return { ...info, label: [`${head} + OpenBLAS sgemm (${l.core})`, ...rest].join(' — '), versions: { ...info.versions, openblas: l.version } };
}
