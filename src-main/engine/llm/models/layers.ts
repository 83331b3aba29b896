import * as tf from '../../tf';
import type { ModelSpec } from '@shared/llm-model';
import { nativeGemmActive } from '../native-gemm';

/**
 * A weight as loaded: the tensor the forward pass uses (a Variable when it is trained), with its Hugging Face
 * name and how it is laid out on disk, so export writes it back in the layout other tools expect.
 */
export interface Weight {
  hfName: string;
  tensor: tf.Tensor;
  /** 'linear' = nn.Linear, stored [out, in] and kept transposed as [in, out] here; 'conv1d' = GPT-2's Conv1D, [in, out] both ways */
  layout: 'linear' | 'conv1d' | 'plain';
}

export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  /** module names (the last part of the weight's name), e.g. q_proj, v_proj, c_attn */
  targetModules: string[];
}

export interface LoraAdapter {
  /** [in, r] (PEFT stores lora_A.weight as [r, in]) */
  a: tf.Variable;
  /** [r, out] (PEFT stores lora_B.weight as [out, r]) */
  b: tf.Variable;
  scale: number;
  dropout: number;
}

/** A projection x·W + b, optionally with a LoRA branch s·(dropout(x)·A)·B. */
export interface Linear {
  /** the module's path, e.g. model.layers.0.self_attn.q_proj */
  module: string;
  weight: Weight;
  bias?: Weight;
  lora?: LoraAdapter;
  /** Wᵀ [out, in] of a frozen weight, made on first use and kept until the model is disposed */
  frozenT?: tf.Tensor2D;
}

export interface ForwardOptions {
  training?: boolean;
  /** false = the base model (LoRA off): the reference policy */
  adapters?: boolean;
  dropoutSeed?: number;
  /** keep only each block's input for the backward pass and recompute the rest there (models/checkpoint.ts) */
  checkpoint?: boolean;
}

/** x [N, in] → [N, out]. */
export function linear(x: tf.Tensor2D, l: Linear, o: ForwardOptions, seed: number): tf.Tensor2D {
  let y: tf.Tensor2D = l.weight.tensor instanceof tf.Variable ? tf.matMul(x, l.weight.tensor as tf.Tensor2D) : frozenMatMul(x, l, o.checkpoint !== true);
  if (l.bias) y = tf.add(y, l.bias.tensor);
  if (l.lora && o.adapters !== false) {
    const input = o.training && l.lora.dropout > 0 ? tf.dropout(x, l.lora.dropout, undefined, seed) : x;
    y = tf.add(y, tf.mul(tf.matMul(tf.matMul(input, l.lora.a), l.lora.b), l.lora.scale));
  }
  return y;
}

/**
 * x·W for a frozen W whose input gradient dy·Wᵀ multiplies by an explicit Wᵀ: autodiff would run matMul(dy, W,
 * false, true), and the WASM backend's matMul with a transposed operand is a scalar loop, ~10× slower than the plain
 * one. Wᵀ is kept for the model's life (`keepTranspose`), or, in runs that checkpoint activations to save memory
 * (large models, many rows), made for each backward pass: a transpose costs ~4% of that matMul at 1024 rows, and
 * keeping every Wᵀ costs another copy of the frozen weights (340 MB for GPT-2 small). Under OpenBLAS neither is
 * needed.
 */
function frozenMatMul(x: tf.Tensor2D, l: Linear, keepTranspose: boolean): tf.Tensor2D {
  const w = l.weight.tensor as tf.Tensor2D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.matMul(args[0] as tf.Tensor2D, w),
    gradFunc: (dy: tf.Tensor) => {
      // OpenBLAS reads W transposed in place: no copy kept or made
      if (nativeGemmActive()) return tf.matMul(dy as tf.Tensor2D, w, false, true);
      if (l.frozenT) return tf.matMul(dy as tf.Tensor2D, l.frozenT);
      if (!keepTranspose) return tf.matMul(dy as tf.Tensor2D, tf.transpose(w));
      l.frozenT = tf.keep(tf.transpose(w));
      return tf.matMul(dy as tf.Tensor2D, l.frozenT);
    },
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * LayerNorm (x − mean)/√(var + ε)·g + b over the last axis, as one op with its own gradient: it keeps x̂ and
 * 1/σ per row for the backward pass (dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ with dx̂ = dy·g) instead of the
 * dozen tensors and thirty-odd small kernels autodiff through the formula records per norm.
 */
export function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, gain, bias] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(input, -1, true);
    const inv = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(input, mean), inv);
    save([xhat, inv, gain]);
    return {
      value: tf.add(tf.mul(xhat, gain), bias),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, iv, g0] = saved;
        const dxhat = tf.mul(dy, g0);
        const centred = tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true)));
        return [tf.mul(centred, iv), tf.reshape(tf.sum(tf.mul(dy, xh), 0), g0.shape), tf.reshape(tf.sum(dy, 0), g0.shape)];
      },
    };
  });
  return op(x, g, b) as tf.Tensor2D;
}

/** RMSNorm x/√(mean(x²) + ε)·w as one op with its own gradient (dx = (dx̂ − x̂·mean(dx̂·x̂))/rms, dx̂ = dy·w), as layerNorm. */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weight] = args as tf.Tensor[];
    const save = args[2] as tf.GradSaveFunc;
    const inv = tf.rsqrt(tf.add(tf.mean(tf.square(input), -1, true), eps));
    const xhat = tf.mul(input, inv);
    save([xhat, inv, weight]);
    return {
      value: tf.mul(xhat, weight),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, iv, w0] = saved;
        const dxhat = tf.mul(dy, w0);
        const dx = tf.mul(tf.sub(dxhat, tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))), iv);
        return [dx, tf.reshape(tf.sum(tf.mul(dy, xh), 0), w0.shape)];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}

/**
 * GPT-2's tanh GELU, 0.5·x·(1 + tanh(c·(x + 0.044715·x³))), as one op with its own gradient: autodiff through the
 * formula keeps eight [N, 4d] tensors per layer and differentiates x³ through pow (exp and log per element on
 * WASM); this keeps x and the tanh and uses x·x·x.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const c = Math.sqrt(2 / Math.PI);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const sq = tf.mul(input, input);
    const t = tf.tanh(tf.mul(tf.mul(input, tf.add(tf.mul(sq, 0.044715), 1)), c));
    save([input, t]);
    return {
      value: tf.mul(tf.mul(input, 0.5), tf.add(t, 1)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x0, t0] = saved;
        // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3·0.044715·x²)
        const dInner = tf.mul(tf.add(tf.mul(tf.mul(x0, x0), 3 * 0.044715), 1), c);
        const d = tf.add(tf.mul(tf.add(t0, 1), 0.5), tf.mul(tf.mul(tf.mul(x0, 0.5), tf.sub(1, tf.mul(t0, t0))), dInner));
        return tf.mul(dy, d);
      },
    };
  });
  return op(x);
}

/** RoPE inverse frequencies with Hugging Face's rope_scaling variants (linear, llama3). */
export function ropeInvFreq(spec: ModelSpec): Float64Array {
  const D = spec.headDim;
  const inv = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) inv[i] = 1 / spec.ropeTheta ** ((2 * i) / D);
  const rs = spec.ropeScaling;
  if (!rs) return inv;
  if (rs.type === 'linear') return inv.map((f) => f / rs.factor);
  const lowWave = rs.originalMaxPositions / rs.lowFreqFactor;
  const highWave = rs.originalMaxPositions / rs.highFreqFactor;
  return inv.map((f) => {
    const wave = (2 * Math.PI) / f;
    if (wave < highWave) return f;
    if (wave > lowWave) return f / rs.factor;
    const smooth = (rs.originalMaxPositions / wave - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
    return ((1 - smooth) * f) / rs.factor + smooth * f;
  });
}

/** cos and sin tables [T, D] for positions 0..T−1 (the halves repeated, as rotate_half expects). */
export function ropeTables(spec: ModelSpec, T: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const inv = ropeInvFreq(spec);
  const D = spec.headDim;
  const cos = new Float32Array(T * D);
  const sin = new Float32Array(T * D);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < D / 2; i++) {
      const a = t * inv[i];
      cos[t * D + i] = cos[t * D + i + D / 2] = Math.cos(a);
      sin[t * D + i] = sin[t * D + i + D / 2] = Math.sin(a);
    }
  return { cos: tf.tensor2d(cos, [T, D]), sin: tf.tensor2d(sin, [T, D]) };
}

/** x [B, H, T, D] rotated: x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁]; cos, sin [T, D] or [B, 1, T, D]. */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  const D = x.shape[3];
  const [x1, x2] = tf.split(x, [D / 2, D / 2], 3);
  const rot = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rot, sin));
}

/**
 * Additive attention bias [B, 1, T, T]: 0 where query t may see key s (s ≤ t and s is not padding), −1e9 elsewhere.
 * Built once per batch on the CPU side: it is data, not something to differentiate.
 */
export function attentionBias(mask: tf.Tensor2D): tf.Tensor4D {
  const [B, T] = mask.shape;
  const m = mask.dataSync();
  const bias = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let s = 0; s < T; s++) bias[(b * T + t) * T + s] = s <= t && m[b * T + s] > 0 ? 0 : -1e9;
  return tf.tensor4d(bias, [B, 1, T, T]);
}

/** cos and sin [B, 1, T, D] for per-row position ids [B·T] (left padding and KV-cached steps shift positions per row). */
export function ropeTablesAt(spec: ModelSpec, positions: ArrayLike<number>, B: number, T: number): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const inv = ropeInvFreq(spec);
  const D = spec.headDim;
  const cos = new Float32Array(B * T * D);
  const sin = new Float32Array(B * T * D);
  for (let r = 0; r < B * T; r++)
    for (let i = 0; i < D / 2; i++) {
      const a = positions[r] * inv[i];
      cos[r * D + i] = cos[r * D + i + D / 2] = Math.cos(a);
      sin[r * D + i] = sin[r * D + i + D / 2] = Math.sin(a);
    }
  return { cos: tf.tensor4d(cos, [B, 1, T, D]), sin: tf.tensor4d(sin, [B, 1, T, D]) };
}

/**
 * Additive bias [B, 1, t, past + t] for t new queries after `past` cached keys: query i sees key s when s ≤ past + i
 * and key s is not padding (keyMask [B, past + t], 1 = token).
 */
export function cachedAttentionBias(keyMask: ArrayLike<number>, B: number, past: number, t: number): tf.Tensor4D {
  const Tk = past + t;
  const bias = new Float32Array(B * t * Tk);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < t; i++) for (let s = 0; s < Tk; s++) bias[(b * t + i) * Tk + s] = s <= past + i && keyMask[b * Tk + s] > 0 ? 0 : -1e9;
  return tf.tensor4d(bias, [B, 1, t, Tk]);
}

/**
 * Scaled dot-product attention for q [B, H, T, D] and k, v [B, KV, T, D] (grouped-query: each kv head serves
 * H/KV query heads). Returns [B·T, H·D].
 */
export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor2D {
  const [B, H, T, D] = q.shape;
  const KV = k.shape[1];
  // keys may outnumber queries: with a KV cache the queries are the new tokens only
  const Tk = k.shape[2];
  if (KV !== H) {
    const rep = H / KV;
    // HF's repeat_kv: query head h reads kv head ⌊h / rep⌋. Tiled as rank 3, where tfjs has the tile gradient.
    const expand = (t: tf.Tensor4D) => tf.reshape(tf.tile(tf.reshape(t, [B * KV, 1, Tk * D]), [1, rep, 1]), [B, H, Tk, D]) as tf.Tensor4D;
    k = expand(k);
    v = expand(v);
  }
  const qkT = batchedMatMul(tf.reshape(q, [B * H, T, D]), tf.reshape(k, [B * H, Tk, D]), true);
  const scores = tf.add(tf.mul(tf.reshape(qkT, [B, H, T, Tk]), 1 / Math.sqrt(D)), bias);
  const p = tf.softmax(scores, -1);
  const o = tf.reshape(batchedMatMul(tf.reshape(p, [B * H, T, Tk]), tf.reshape(v, [B * H, Tk, D]), false), [B, H, T, D]);
  return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * T, H * D]);
}

/** multiply-adds per slice below which the batched kernel is kept (64×64×64 and up go slice by slice) */
const PER_SLICE_MIN_WORK = 1 << 18;

/**
 * a [N, M, K] · b [N, K, P] (b [N, P, K] with transposeB). On WASM as N plain 2-D products with a gradient of plain
 * products over explicit transposes: that backend's batched or transposed matMul is a scalar loop (~30 MFLOP/s
 * against ~27 GFLOP/s for the plain 2-D one), which made attention most of a step at 512 tokens.
 */
export function batchedMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeB: boolean): tf.Tensor3D {
  const [N, M, K] = a.shape;
  const P = transposeB ? b.shape[1] : b.shape[2];
  // Small slices (a tiny model's heads) cost more in per-op dispatch than the scalar loop spends on them.
  // OpenBLAS (native-gemm.ts) takes batched and transposed products at full speed.
  if (tf.getBackend() !== 'wasm' || nativeGemmActive() || M * K * P < PER_SLICE_MIN_WORK || N === 1) return tf.matMul(a, b, false, transposeB);
  const bt = transposeB ? (tf.transpose(b, [0, 2, 1]) as tf.Tensor3D) : b;
  const products = (xs: tf.Tensor[], ys: tf.Tensor[]) => tf.stack(xs.map((x, i) => tf.matMul(x as tf.Tensor2D, ys[i] as tf.Tensor2D))) as tf.Tensor3D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y] = [args[0] as tf.Tensor3D, args[1] as tf.Tensor3D];
    (args[2] as tf.GradSaveFunc)([x, y]);
    return {
      value: products(tf.unstack(x), tf.unstack(y)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const ds = tf.unstack(dy);
        const xs = tf.unstack(saved[0]);
        const ys = tf.unstack(saved[1]);
        return [
          products(
            ds,
            ys.map((t) => tf.transpose(t)),
          ),
          products(
            xs.map((t) => tf.transpose(t)),
            ds,
          ),
        ];
      },
    };
  });
  return op(a, bt) as tf.Tensor3D;
}

/** [B·T, H·D] → [B, H, T, D]. */
export function splitHeads(x: tf.Tensor2D, B: number, T: number, H: number, D: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [B, T, H, D]), [0, 2, 1, 3]);
}
