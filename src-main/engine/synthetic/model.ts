/**
 * The synthetic lab's policies, written for R runs trained side by side: every parameter is one stacked
 * tensor with a leading run axis [R, ...].
 *
 * - `table`: a free K×K logit table T, initialised to zero (uniform policy). logits[x] = T[x].
 * - `mlp`: one-hot(x) → embedding E (K×H, no bias) → tanh → linear (W2: H×K, b2: K) → K logits → log-softmax.
 *
 * The prompt set is tiny (K), so the forward pass evaluates the network on all K prompts at once: one-hot(x)
 * for x = 0..K−1 is the identity, so the embedding layer's output for every prompt is E itself and the
 * [R, K, K] log-prob table comes from one batched matmul. A batch of pairs then only reads cells of that
 * table. The backward pass is written by hand (a few batched matmuls, no gather and no autodiff in the
 * model), which keeps it fast and independent of which kernels a backend implements.
 *
 * Initialisation (seeded, stream "init", per run, independent of the batch): PyTorch's defaults, i.e.
 * E ~ N(0, 1) (nn.Embedding), W2 and b2 ~ U(−1/√H, 1/√H) (nn.Linear).
 */
import * as tf from '../tf';
import { Rng, STREAMS } from './rng';
import { batchMatMul, batchMatMulUsesWasmKernel } from './wasm-kernels';

export type ModelKind = 'table' | 'mlp';

export interface ModelSpec {
  kind: ModelKind;
  K: number;
  /** hidden width H of the mlp (ignored by the table) */
  hidden: number;
}

/** Parameter names in the order of the stacked tensors. */
export function paramNames(kind: ModelKind): string[] {
  return kind === 'table' ? ['logits'] : ['embedding', 'W2', 'b2'];
}

/** Per-run parameter shapes (without the leading run axis). Every one has rank 2. */
export function paramShapes(spec: ModelSpec): [number, number][] {
  const { K, hidden: H } = spec;
  return spec.kind === 'table'
    ? [[K, K]]
    : [
        [K, H],
        [H, K],
        [1, K],
      ];
}

/** One run's initial parameters as plain arrays (row-major, shapes as paramShapes). */
export function initRunParams(spec: ModelSpec, seed: number): Float32Array[] {
  const shapes = paramShapes(spec);
  const out = shapes.map(([a, b]) => new Float32Array(a * b));
  if (spec.kind === 'table') return out;
  const rng = new Rng(seed, STREAMS.init);
  const bound = 1 / Math.sqrt(spec.hidden);
  const [E, W2, b2] = out;
  for (let i = 0; i < E.length; i++) E[i] = rng.normal();
  for (let i = 0; i < W2.length; i++) W2[i] = rng.uniform(-bound, bound);
  for (let i = 0; i < b2.length; i++) b2[i] = rng.uniform(-bound, bound);
  return out;
}

/** Stacked initial parameters of R runs: tensors [R, ...shape], run r seeded by seeds[r]. */
export function initParams(spec: ModelSpec, seeds: readonly number[]): tf.Tensor[] {
  const R = seeds.length;
  const perRun = seeds.map((s) => initRunParams(spec, s));
  return paramShapes(spec).map(([a, b], k) => {
    const n = a * b;
    const buf = new Float32Array(R * n);
    for (let r = 0; r < R; r++) buf.set(perRun[r][k], r * n);
    return tf.tensor3d(buf, [R, a, b]);
  });
}

/** What backward() needs from the forward pass. All tensors are owned by the caller's tidy scope. */
export interface ForwardResult {
  /** log π(y|x), [R, K, K] (row x = prompt) */
  logp: tf.Tensor3D;
  /** π(y|x), [R, K, K] */
  probs: tf.Tensor3D;
  /** mlp only: tanh(E), [R, K, H] */
  h?: tf.Tensor3D;
}

/**
 * tanh as 2σ(2x) − 1: identical in exact arithmetic, and on the WASM backend σ is a vectorised XNNPACK kernel
 * while tanh is scalar (about 10× slower at this size). Absolute error stays at float32 rounding (~1e-7).
 */
function fastTanh(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
}

/** Policy over all K prompts. */
export function forward(spec: ModelSpec, params: readonly tf.Tensor[]): ForwardResult {
  let logits: tf.Tensor3D;
  let h: tf.Tensor3D | undefined;
  if (spec.kind === 'table') {
    logits = params[0] as tf.Tensor3D;
  } else {
    const [E, W2, b2] = params as tf.Tensor3D[];
    h = fastTanh(E) as tf.Tensor3D;
    logits = tf.add(batchMatMul(h, W2), b2) as tf.Tensor3D;
  }
  // log-softmax and softmax from one exp (exp is a scalar loop on WASM): z = logits − max, s = Σ exp(z),
  // log π = z − log s (as tf.logSoftmax computes it), π = exp(z) / s
  const z = tf.sub(logits, tf.max(logits, -1, true));
  const e = tf.exp(z);
  const s = tf.sum(e, -1, true);
  return { logp: tf.sub(z, tf.log(s)) as tf.Tensor3D, probs: tf.div(e, s) as tf.Tensor3D, h };
}

/**
 * Parameter gradients of Σ_{x,y} G[s, r, x, y] · log π_r(y|x) for each slice s: `dLogp` is [S, R, K, K]
 * (S independent "upstream" tables, e.g. total / chosen-only), the result one tensor per parameter,
 * [S, R, ...shape]. Linear in dLogp.
 */
export function backward(spec: ModelSpec, params: readonly tf.Tensor[], fwd: ForwardResult, dLogp: tf.Tensor4D): tf.Tensor4D[] {
  // log-softmax: ∂/∂z_k = G_k − π_k Σ_j G_j (per prompt row)
  const dZ = tf.sub(dLogp, tf.mul(fwd.probs, tf.sum(dLogp, -1, true))) as tf.Tensor4D;
  if (spec.kind === 'table') return [dZ];
  const [, W2] = params as tf.Tensor3D[];
  const h = fwd.h!;
  const [S, R, K] = dZ.shape;
  const H = h.shape[2];
  const dZ3 = dZ.reshape([S * R, K, K]) as tf.Tensor3D;
  const dW2 = batchMatMul(h, dZ3, true, false).reshape([S, R, H, K]) as tf.Tensor4D; // h repeats over S
  const db2 = tf.sum(dZ, -2, true) as tf.Tensor4D; // [S, R, 1, K]
  const dh = batchMatMul(dZ3, W2, false, true).reshape([S, R, K, H]); // W2 repeats over S
  const dE = tf.mul(dh, tf.sub(1, tf.square(h))) as tf.Tensor4D;
  return [dE, dW2, db2];
}

/** Σ of squares per (s, r) over each parameter's own axes, summed over parameters: [S, R]. */
export function sumSquares(grads: readonly tf.Tensor4D[]): tf.Tensor2D {
  let acc: tf.Tensor | null = null;
  for (const g of grads) {
    const s = tf.sum(tf.square(g), [2, 3]);
    acc = acc ? tf.add(acc, s) : s;
  }
  return acc as tf.Tensor2D;
}

/**
 * Whether every run of a stacked program gets the same numbers at any number of runs. The table model has no
 * matrix product; the mlp's products are batch-invariant on the pure-JS backend and with the lab's WASM kernel,
 * not with tf.matMul elsewhere (XNNPACK and native backends treat a batch of one differently).
 */
export function batchMatMulIsBatchInvariant(spec: ModelSpec): boolean {
  if (spec.kind === 'table' || tf.getBackend() === 'cpu') return true;
  // the products' column counts are K and H
  return batchMatMulUsesWasmKernel(Math.min(spec.K, spec.hidden));
}
