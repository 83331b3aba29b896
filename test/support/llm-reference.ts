/**
 * An independent float64 forward pass of the causal LMs the lab loads (gpt2, llama, qwen2), written from the
 * Hugging Face transformers formulas in plain JS: no tfjs, nothing shared with src-main/engine/llm/models. Tests
 * compare the tfjs model against it, so a wrong transpose, RoPE table or mask in the engine shows up as a number.
 *
 * Weights are in Hugging Face names and layouts, as writeTinyModel (tiny-models.ts) returns them: nn.Linear
 * [out, in], GPT-2's Conv1D [in, out]. One sequence at a time with no padding: the causal mask is all there is,
 * and a right-padded row of a batch must give the same values at its real positions.
 */

export interface ReferenceTensor {
  shape: number[];
  values: Float64Array;
}

export interface ReferenceModel {
  /** config.json as written (model_type, sizes, eps, rope_theta, rope_scaling, tie_word_embeddings, …) */
  config: Record<string, unknown>;
  /** every weight by its Hugging Face name */
  weights: Record<string, ReferenceTensor>;
}

/**
 * PEFT LoRA adapters: for module path m (e.g. `model.layers.0.self_attn.q_proj`, `transformer.h.0.attn.c_attn`)
 * the branch scale·B·(A·x) is added to the module's output. A is lora_A.weight [r, in] and B is lora_B.weight
 * [out, r], as PEFT stores them (for GPT-2's Conv1D too: fan_in_fan_out changes only how a merge is laid out).
 */
export interface ReferenceLora {
  scale: number;
  modules: Record<string, { a: ReferenceTensor; b: ReferenceTensor }>;
}

type Vec = Float64Array;

function num(config: Record<string, unknown>, key: string, fallback?: number): number {
  const v = config[key];
  if (typeof v === 'number') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`reference: config.${key} is missing`);
}

function weight(m: ReferenceModel, name: string): ReferenceTensor {
  const w = m.weights[name];
  if (!w) throw new Error(`reference: weight ${name} is missing`);
  return w;
}

/** y = W·x for an nn.Linear weight [out, in]. */
function linearOutIn(w: ReferenceTensor, x: Vec): Vec {
  const [out, inn] = w.shape;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inn; i++) s += w.values[o * inn + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** y = xᵀ·W for a Conv1D weight [in, out]. */
function linearInOut(w: ReferenceTensor, x: Vec): Vec {
  const [inn, out] = w.shape;
  const y = new Float64Array(out);
  for (let i = 0; i < inn; i++) {
    const xi = x[i];
    for (let o = 0; o < out; o++) y[o] += xi * w.values[i * out + o];
  }
  return y;
}

/** A module's output: the base projection, its bias, and its LoRA branch when the adapters name it. */
function project(m: ReferenceModel, module: string, x: Vec, layout: 'linear' | 'conv1d', lora?: ReferenceLora): Vec {
  const w = weight(m, `${module}.weight`);
  const y = layout === 'linear' ? linearOutIn(w, x) : linearInOut(w, x);
  const b = m.weights[`${module}.bias`];
  if (b) for (let o = 0; o < y.length; o++) y[o] += b.values[o];
  const ad = lora?.modules[module];
  if (ad) {
    const ax = linearOutIn(ad.a, x);
    const bax = linearOutIn(ad.b, ax);
    for (let o = 0; o < y.length; o++) y[o] += lora!.scale * bax[o];
  }
  return y;
}

function add(a: Vec, b: Vec): Vec {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** torch.nn.LayerNorm: biased variance, eps inside the square root. */
function layerNorm(x: Vec, g: ReferenceTensor, b: ReferenceTensor, eps: number): Vec {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= n;
  const inv = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * inv * g.values[i] + b.values[i]);
}

/** LlamaRMSNorm: x·rsqrt(mean(x²) + eps), then the weight. */
function rmsNorm(x: Vec, w: ReferenceTensor, eps: number): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  ms /= x.length;
  const inv = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => w.values[i] * (v * inv));
}

/** erf to ~1e-15 (Taylor series near 0, continued fraction for erfc further out). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const inc = term / (2 * n + 1);
      sum += inc;
      if (Math.abs(inc) < 1e-17) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** transformers' ACT2FN for the activations a GPT-2 config may name. */
function activation(name: string): (x: number) => number {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'gelu':
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'relu':
      return (x) => Math.max(0, x);
    case 'silu':
    case 'swish':
      return (x) => x / (1 + Math.exp(-x));
    default:
      throw new Error(`reference: activation ${name} is not implemented`);
  }
}

/**
 * Causal softmax attention of one head over positions 0..t: queries q[t], keys k[s], values v[s] (already rotated
 * where the model rotates). Returns the output at every position.
 */
function causalAttention(q: Vec[], k: Vec[], v: Vec[]): Vec[] {
  const T = q.length;
  const D = q[0].length;
  const out: Vec[] = [];
  for (let t = 0; t < T; t++) {
    const scores = new Float64Array(t + 1);
    let max = -Infinity;
    for (let s = 0; s <= t; s++) {
      let dot = 0;
      for (let j = 0; j < D; j++) dot += q[t][j] * k[s][j];
      scores[s] = dot / Math.sqrt(D);
      max = Math.max(max, scores[s]);
    }
    let z = 0;
    for (let s = 0; s <= t; s++) z += scores[s] = Math.exp(scores[s] - max);
    const o = new Float64Array(D);
    for (let s = 0; s <= t; s++) for (let j = 0; j < D; j++) o[j] += (scores[s] / z) * v[s][j];
    out.push(o);
  }
  return out;
}

/** Slices heads out of a projection: part [n·D, (n+1)·D) of each position's vector. */
function head(xs: Vec[], n: number, D: number): Vec[] {
  return xs.map((x) => x.slice(n * D, (n + 1) * D));
}

/**
 * RoPE inverse frequencies as transformers' ROPE_INIT_FUNCTIONS compute them: default
 * 1/θ^(2i/D); `linear` divides them by the factor (the same as dividing positions); `llama3` divides the low
 * frequencies (wavelength above original_max_position_embeddings/low_freq_factor) by the factor, keeps the high
 * ones (wavelength below original/high_freq_factor), and blends in between.
 */
export function referenceInvFreq(config: Record<string, unknown>, headDim: number): Float64Array {
  const theta = num(config, 'rope_theta', 10000);
  const inv = new Float64Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  const rs = config.rope_scaling as Record<string, unknown> | null | undefined;
  if (!rs) return inv;
  const kind = (rs.rope_type ?? rs.type ?? 'default') as string;
  const factor = rs.factor as number;
  if (kind === 'default') return inv;
  if (kind === 'linear') return inv.map((f) => f / factor);
  if (kind !== 'llama3') throw new Error(`reference: rope_scaling ${kind} is not implemented`);
  const low = rs.low_freq_factor as number;
  const high = rs.high_freq_factor as number;
  const original = rs.original_max_position_embeddings as number;
  const lowFreqWavelen = original / low;
  const highFreqWavelen = original / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    const scaled = wavelen > lowFreqWavelen ? f / factor : f;
    const smooth = (original / wavelen - low) / (high - low);
    const medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    return medium ? ((1 - smooth) * scaled) / factor + smooth * scaled : scaled;
  });
}

/** apply_rotary_pos_emb at position t: x·cos + rotate_half(x)·sin, cos/sin = [freqs, freqs], rotate_half = [−x₂, x₁]. */
function rope(x: Vec, t: number, inv: Float64Array): Vec {
  const half = x.length / 2;
  const y = new Float64Array(x.length);
  for (let i = 0; i < half; i++) {
    const c = Math.cos(t * inv[i]);
    const s = Math.sin(t * inv[i]);
    y[i] = x[i] * c - x[i + half] * s;
    y[i + half] = x[i + half] * c + x[i] * s;
  }
  return y;
}

function gpt2Hidden(m: ReferenceModel, ids: readonly number[], lora?: ReferenceLora): Vec[] {
  const c = m.config;
  const d = num(c, 'n_embd');
  const H = num(c, 'n_head');
  const L = num(c, 'n_layer');
  const eps = num(c, 'layer_norm_epsilon', 1e-5);
  const act = activation((c.activation_function as string | undefined) ?? 'gelu_new');
  const pre = m.weights['transformer.wte.weight'] ? 'transformer.' : '';
  const wte = weight(m, `${pre}wte.weight`);
  const wpe = weight(m, `${pre}wpe.weight`);
  const D = d / H;
  let h: Vec[] = ids.map((id, t) => {
    const x = new Float64Array(d);
    for (let j = 0; j < d; j++) x[j] = wte.values[id * d + j] + wpe.values[t * d + j];
    return x;
  });
  for (let l = 0; l < L; l++) {
    const p = `${pre}h.${l}`;
    const x = h.map((v) => layerNorm(v, weight(m, `${p}.ln_1.weight`), weight(m, `${p}.ln_1.bias`), eps));
    const qkv = x.map((v) => project(m, `${p}.attn.c_attn`, v, 'conv1d', lora));
    const q = qkv.map((v) => v.slice(0, d));
    const k = qkv.map((v) => v.slice(d, 2 * d));
    const vv = qkv.map((v) => v.slice(2 * d, 3 * d));
    const merged: Vec[] = h.map(() => new Float64Array(d));
    for (let n = 0; n < H; n++) {
      const o = causalAttention(head(q, n, D), head(k, n, D), head(vv, n, D));
      o.forEach((v, t) => merged[t].set(v, n * D));
    }
    h = h.map((v, t) => add(v, project(m, `${p}.attn.c_proj`, merged[t], 'conv1d', lora)));
    h = h.map((v) => {
      const x2 = layerNorm(v, weight(m, `${p}.ln_2.weight`), weight(m, `${p}.ln_2.bias`), eps);
      const inner = project(m, `${p}.mlp.c_fc`, x2, 'conv1d', lora).map(act);
      return add(v, project(m, `${p}.mlp.c_proj`, inner, 'conv1d', lora));
    });
  }
  return h.map((v) => layerNorm(v, weight(m, `${pre}ln_f.weight`), weight(m, `${pre}ln_f.bias`), eps));
}

function llamaHidden(m: ReferenceModel, ids: readonly number[], lora?: ReferenceLora): Vec[] {
  const c = m.config;
  const d = num(c, 'hidden_size');
  const H = num(c, 'num_attention_heads');
  const KV = num(c, 'num_key_value_heads', H);
  const L = num(c, 'num_hidden_layers');
  const eps = num(c, 'rms_norm_eps', 1e-6);
  const D = typeof c.head_dim === 'number' ? c.head_dim : d / H;
  const inv = referenceInvFreq(c, D);
  const act = activation((c.hidden_act as string | undefined) ?? 'silu');
  const pre = m.weights['model.embed_tokens.weight'] ? 'model.' : '';
  const embed = weight(m, `${pre}embed_tokens.weight`);
  let h: Vec[] = ids.map((id) => embed.values.slice(id * d, (id + 1) * d));
  for (let l = 0; l < L; l++) {
    const p = `${pre}layers.${l}`;
    const x = h.map((v) => rmsNorm(v, weight(m, `${p}.input_layernorm.weight`), eps));
    const q = x.map((v) => project(m, `${p}.self_attn.q_proj`, v, 'linear', lora));
    const k = x.map((v) => project(m, `${p}.self_attn.k_proj`, v, 'linear', lora));
    const v = x.map((v) => project(m, `${p}.self_attn.v_proj`, v, 'linear', lora));
    const merged: Vec[] = h.map(() => new Float64Array(H * D));
    for (let n = 0; n < H; n++) {
      // repeat_kv: query head n reads key/value head ⌊n / (H/KV)⌋
      const kvHead = Math.floor(n / (H / KV));
      const qh = head(q, n, D).map((u, t) => rope(u, t, inv));
      const kh = head(k, kvHead, D).map((u, t) => rope(u, t, inv));
      const o = causalAttention(qh, kh, head(v, kvHead, D));
      o.forEach((u, t) => merged[t].set(u, n * D));
    }
    h = h.map((u, t) => add(u, project(m, `${p}.self_attn.o_proj`, merged[t], 'linear', lora)));
    h = h.map((u) => {
      const x2 = rmsNorm(u, weight(m, `${p}.post_attention_layernorm.weight`), eps);
      const gate = project(m, `${p}.mlp.gate_proj`, x2, 'linear', lora);
      const up = project(m, `${p}.mlp.up_proj`, x2, 'linear', lora);
      return add(
        u,
        project(
          m,
          `${p}.mlp.down_proj`,
          gate.map((g, i) => act(g) * up[i]),
          'linear',
          lora,
        ),
      );
    });
  }
  return h.map((u) => rmsNorm(u, weight(m, `${pre}norm.weight`), eps));
}

/**
 * The final hidden states [T][d] of one unpadded sequence (after the final LayerNorm / RMSNorm, before the
 * head): what a `*ForSequenceClassification` score head reads. `lora` adds PEFT adapters to the modules it names.
 */
export function referenceHiddenStates(m: ReferenceModel, ids: readonly number[], lora?: ReferenceLora): Float64Array[] {
  const type = m.config.model_type;
  if (type === 'gpt2') return gpt2Hidden(m, ids, lora);
  if (type === 'llama' || type === 'qwen2') return llamaHidden(m, ids, lora);
  throw new Error(`reference: model_type ${String(type)} is not implemented`);
}

/** The output head [V, d]: lm_head.weight, or the token embedding when the model ties them (or has no lm_head). */
function outputHead(m: ReferenceModel): ReferenceTensor {
  const tied = m.config.tie_word_embeddings ?? m.config.model_type === 'gpt2';
  if (!tied && m.weights['lm_head.weight']) return m.weights['lm_head.weight'];
  if (!tied) throw new Error('reference: lm_head.weight is missing and tie_word_embeddings is false');
  const name = ['transformer.wte.weight', 'wte.weight', 'model.embed_tokens.weight', 'embed_tokens.weight'].find((n) => m.weights[n]);
  return weight(m, name ?? 'model.embed_tokens.weight');
}

/** Logits [T][V] of one unpadded sequence. */
export function referenceLogits(m: ReferenceModel, ids: readonly number[], lora?: ReferenceLora): Float64Array[] {
  const headW = outputHead(m);
  return referenceHiddenStates(m, ids, lora).map((x) => linearOutIn(headW, x));
}

/**
 * Σ log p(ids[t] | ids[<t]) over the response tokens t ∈ [responseStart, responseEnd) (end defaults to the
 * sequence's length): TRL's sequence log-prob, with the log-softmax over the whole vocabulary.
 */
export function referenceSequenceLogp(
  m: ReferenceModel,
  ids: readonly number[],
  responseStart: number,
  responseEnd = ids.length,
  lora?: ReferenceLora,
): number {
  const logits = referenceLogits(m, ids, lora);
  let sum = 0;
  for (let t = Math.max(1, responseStart); t < responseEnd; t++) {
    const row = logits[t - 1];
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    sum += row[ids[t]] - max - Math.log(z);
  }
  return sum;
}
