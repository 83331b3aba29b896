import * as tf from '../../tf';
import type { ModelSpec } from '@shared/llm-model';
import { LORA_TARGETS_DEFAULT } from '@shared/llm-config';
import { readModelSpec } from '../model-config';
import { modelTensorEntries, modelWeightsFile, readSafetensorsFile, readTensor, type FloatTensor, type TensorEntry } from '../safetensors';
import { Rng } from '../../synthetic/rng';
import { registerLlmKernels } from '../kernels';
import { checkpointed } from './checkpoint';
import { headProduct, type FrozenHead } from './frozen-head';
import { nativeGemmActive } from '../native-gemm';
import {
  attention,
  attentionBias,
  applyRope,
  cachedAttentionBias,
  geluTanh,
  layerNorm,
  linear,
  rmsNorm,
  ropeTables,
  ropeTablesAt,
  splitHeads,
  type ForwardOptions,
  type Linear,
  type LoraConfig,
  type Weight,
} from './layers';

export type { LoraConfig, ForwardOptions } from './layers';

/**
 * Keys and values of the tokens seen so far, per layer, for incremental decoding. Rows may hold padding anywhere
 * (left-padded prompts, finished rows): the mask keeps it out of attention and positions count real tokens only.
 */
export interface KVCache {
  readonly batch: number;
  readonly maxLen: number;
  /** token slots used (padding included), the same for every row */
  length: number;
  /** per layer: [B, KV heads, length, head dim], before grouped-query expansion */
  keys: (tf.Tensor4D | null)[];
  values: (tf.Tensor4D | null)[];
  /** [B][length] 1 = token, 0 = padding */
  mask: number[][];
  /** per row: the position id its next real token gets (= real tokens so far) */
  nextPos: Int32Array;
  dispose(): void;
}

export interface CausalLM {
  spec: ModelSpec;
  /** logits [B, T, V] for right-padded ids [B, T] (int32) and their attention mask [B, T] (1 = token, 0 = padding) */
  forward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  /** the output head as W [d, V] and Wᵀ [V, d] while it is frozen (null when it trains), for chunked log-probs */
  frozenHeadWeights(): FrozenHead | null;
  /** the final hidden states [B, T, d] (after the last norm), what a scalar head reads; same inputs as forward */
  hidden(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  /** the output head on hidden states [N, d]: logits [N, V] (trainable or frozen, as forward() uses it) */
  headLogits(h: tf.Tensor2D): tf.Tensor2D;
  /** an empty KV cache for `batch` rows of at most `maxLen` token slots */
  startCache(batch: number, maxLen: number): KVCache;
  /**
   * logits [B, t, V] of t new tokens per row after what the cache holds, which it then holds too. attentionMask
   * [B, t] marks padding among the new tokens (default: none); each row's positions count its real tokens only,
   * so a left-padded row computes what it would alone.
   */
  forwardCached(inputIds: tf.Tensor2D, cache: KVCache, attentionMask?: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  /** what training updates: the LoRA A and B matrices, or every weight */
  trainableVariables(): tf.Variable[];
  /** weights by Hugging Face name: the whole model (adapters folded in) or the PEFT adapter tensors */
  exportWeights(mode: 'merged' | 'adapter'): Record<string, FloatTensor>;
  /** PEFT's adapter_config.json content */
  adapterConfig(): Record<string, unknown>;
  /** loads a PEFT adapter folder's adapter_model.safetensors into the adapters (same rank and targets) */
  loadAdapter(dir: string): void;
  dispose(): void;
}

export interface LoadOptions {
  lora?: Partial<LoraConfig> & { rank: number; alpha: number };
  /** seeds the LoRA A initialisation */
  seed?: number;
  /** without LoRA: every weight a Variable (full fine-tuning); with LoRA only the adapters are ever trained */
  train?: boolean;
  /** false: the folder may lack lm_head.weight (a *ForSequenceClassification scorer; only hidden() is used) */
  lmHead?: boolean;
}

interface Block {
  norm1: [Weight, Weight?];
  norm2: [Weight, Weight?];
  q: Linear;
  k?: Linear;
  v?: Linear;
  o: Linear;
  /** llama: gate, up, down; gpt2: fc, proj */
  mlp: Linear[];
}

/** The variables a block trains in this pass: all of its weights under full fine-tuning, its adapters under LoRA. */
function blockVariables(blk: Block, opts: ForwardOptions): tf.Variable[] {
  const out: tf.Variable[] = [];
  const take = (t: tf.Tensor | undefined) => {
    if (t instanceof tf.Variable && t.trainable) out.push(t);
  };
  for (const w of [...blk.norm1, ...blk.norm2]) take(w?.tensor);
  for (const l of [blk.q, blk.k, blk.v, blk.o, ...blk.mlp]) {
    if (!l) continue;
    take(l.weight.tensor);
    take(l.bias?.tensor);
    if (l.lora && opts.adapters !== false) {
      take(l.lora.a);
      take(l.lora.b);
    }
  }
  return out;
}

/** Resolves the weights of a folder, checking names and shapes before any tensor is created. */
class WeightReader {
  private readonly entries: Map<string, TensorEntry>;
  constructor(
    readonly dir: string,
    private readonly prefix: string,
  ) {
    this.entries = modelTensorEntries(dir);
  }
  static prefixFor(entries: Map<string, TensorEntry>, candidates: string[], probe: string): string {
    return candidates.find((p) => entries.has(p + probe)) ?? candidates[0];
  }
  has(name: string): boolean {
    return this.entries.has(this.prefix + name);
  }
  entry(name: string, shape: number[]): TensorEntry {
    const full = this.prefix + name;
    const e = this.entries.get(full);
    if (!e) throw new Error(`${modelWeightsFile(this.dir)}: tensor ${full} is missing from the weights`);
    if (e.shape.join(',') !== shape.join(',')) throw new Error(`${e.file}: tensor ${full} has shape [${e.shape}], expected [${shape}] from config.json`);
    return e;
  }
  names(): string[] {
    return [...this.entries.keys()];
  }
}

class Model implements CausalLM {
  private readonly weights: Weight[] = [];
  private readonly linears: Linear[] = [];
  private readonly blocks: Block[] = [];
  private embed!: Weight;
  private positions?: Weight;
  private finalNorm!: [Weight, Weight?];
  private head?: Weight;
  private readonly trainable: tf.Variable[] = [];
  private frozenHeadPair: FrozenHead | null = null;

  /**
   * A frozen head as both W [d, V] and Wᵀ [V, d], made once and kept (outside any tidy), so neither the forward
   * product nor its input gradient needs a transposed matMul, which the WASM backend runs as a scalar loop (~10×
   * slower on a 50k vocabulary). Under OpenBLAS (native-gemm.ts) a tied head needs no copy: w is null and the
   * products read the embedding transposed in place (154 MB less for GPT-2 small, per training thread).
   */
  private frozenHead(): FrozenHead {
    if (!this.frozenHeadPair) {
      const pair: FrozenHead =
        !this.head && nativeGemmActive()
          ? { w: null, wT: this.embed.tensor as tf.Tensor2D }
          : this.head
            ? { w: this.head.tensor as tf.Tensor2D, wT: tf.keep(tf.transpose(this.head.tensor)) as tf.Tensor2D }
            : { w: tf.keep(tf.transpose(this.embed.tensor)) as tf.Tensor2D, wT: this.embed.tensor as tf.Tensor2D };
      this.frozenHeadPair = pair;
    }
    return this.frozenHeadPair;
  }

  /** The [N, V] logits of hidden states [N, d]. */
  frozenHeadWeights(): FrozenHead | null {
    const headTensor = this.head ? this.head.tensor : this.embed.tensor;
    return headTensor instanceof tf.Variable ? null : this.frozenHead();
  }

  /** The [N, V] logits of hidden states [N, d] (what forward() ends with). */
  headLogits(hn: tf.Tensor2D): tf.Tensor2D {
    return this.logitsOf(hn);
  }

  private logitsOf(hn: tf.Tensor2D): tf.Tensor2D {
    const headTensor = this.head ? this.head.tensor : this.embed.tensor;
    if (headTensor instanceof tf.Variable) return tf.matMul(hn, this.head ? this.head.tensor : tf.transpose(this.embed.tensor)) as tf.Tensor2D;
    const head = this.frozenHead();
    const { wT } = head;
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: headProduct(args[0] as tf.Tensor2D, head),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT),
    }));
    return op(hn) as tf.Tensor2D;
  }
  private loraCfg: LoraConfig | null = null;

  constructor(
    readonly spec: ModelSpec,
    private readonly dir: string,
  ) {}

  load(opts: LoadOptions): void {
    const s = this.spec;
    const full = !!opts.train && !opts.lora;
    const probeEntries = modelTensorEntries(this.dir);
    const gpt2 = s.modelType === 'gpt2';
    const prefix = gpt2
      ? WeightReader.prefixFor(probeEntries, ['transformer.', ''], 'wte.weight')
      : WeightReader.prefixFor(probeEntries, ['model.', ''], 'embed_tokens.weight');
    const r = new WeightReader(this.dir, prefix);
    const d = s.hiddenSize;
    const qDim = s.numHeads * s.headDim;
    const kvDim = s.numKvHeads * s.headDim;
    // First check every name and shape, so a bad file fails before any tensor exists.
    const plan: { name: string; shape: number[]; layout: Weight['layout']; hf?: string }[] = [];
    const add = (name: string, shape: number[], layout: Weight['layout'] = 'plain') => {
      r.entry(name, shape);
      plan.push({ name, shape, layout });
    };
    const lin = (name: string, inDim: number, outDim: number, bias: boolean) => {
      add(`${name}.weight`, gpt2 ? [inDim, outDim] : [outDim, inDim], gpt2 ? 'conv1d' : 'linear');
      if (bias) add(`${name}.bias`, [outDim]);
    };
    if (gpt2) {
      add('wte.weight', [s.vocabSize, d]);
      add('wpe.weight', [s.maxPositions, d]);
      for (let i = 0; i < s.numLayers; i++) {
        const p = `h.${i}`;
        add(`${p}.ln_1.weight`, [d]);
        add(`${p}.ln_1.bias`, [d]);
        lin(`${p}.attn.c_attn`, d, 3 * d, true);
        lin(`${p}.attn.c_proj`, d, d, true);
        add(`${p}.ln_2.weight`, [d]);
        add(`${p}.ln_2.bias`, [d]);
        lin(`${p}.mlp.c_fc`, d, s.intermediateSize, true);
        lin(`${p}.mlp.c_proj`, s.intermediateSize, d, true);
      }
      add('ln_f.weight', [d]);
      add('ln_f.bias', [d]);
    } else {
      add('embed_tokens.weight', [s.vocabSize, d]);
      for (let i = 0; i < s.numLayers; i++) {
        const p = `layers.${i}`;
        add(`${p}.input_layernorm.weight`, [d]);
        lin(`${p}.self_attn.q_proj`, d, qDim, s.qkvBias);
        lin(`${p}.self_attn.k_proj`, d, kvDim, s.qkvBias);
        lin(`${p}.self_attn.v_proj`, d, kvDim, s.qkvBias);
        lin(`${p}.self_attn.o_proj`, qDim, d, s.outBias);
        add(`${p}.post_attention_layernorm.weight`, [d]);
        lin(`${p}.mlp.gate_proj`, d, s.intermediateSize, s.mlpBias);
        lin(`${p}.mlp.up_proj`, d, s.intermediateSize, s.mlpBias);
        lin(`${p}.mlp.down_proj`, s.intermediateSize, d, s.mlpBias);
      }
      add('norm.weight', [d]);
    }
    // The output head: its own lm_head.weight unless tied (or absent, which HF also reads as tied for gpt2).
    const headFull = 'lm_head.weight';
    const hasHead = probeEntries.has(headFull);
    if (!s.tieWordEmbeddings && !hasHead && opts.lmHead !== false)
      throw new Error(`${modelWeightsFile(this.dir)}: tensor lm_head.weight is missing and tie_word_embeddings is false`);

    const byName = new Map<string, Weight>();
    try {
      for (const p of plan) {
        const t = readTensor(r.entry(p.name, p.shape));
        let tensor: tf.Tensor = tf.tensor(t.data, t.shape, 'float32');
        if (p.layout === 'linear') {
          const tr = tf.transpose(tensor);
          tensor.dispose();
          tensor = tr;
        }
        if (full) {
          const v = tf.variable(tensor, true);
          tensor.dispose();
          tensor = v;
          this.trainable.push(v);
        }
        const w: Weight = { hfName: prefix + p.name, tensor, layout: p.layout };
        this.weights.push(w);
        byName.set(p.name, w);
      }
      if (!s.tieWordEmbeddings && hasHead) {
        const e = probeEntries.get(headFull)!;
        if (e.shape.join(',') !== [s.vocabSize, d].join(','))
          throw new Error(`${e.file}: tensor lm_head.weight has shape [${e.shape}], expected [${s.vocabSize},${d}]`);
        const t = readTensor(e);
        const raw = tf.tensor(t.data, t.shape, 'float32');
        let tensor: tf.Tensor = tf.transpose(raw);
        raw.dispose();
        if (full) {
          const v = tf.variable(tensor, true);
          tensor.dispose();
          tensor = v;
          this.trainable.push(v);
        }
        this.head = { hfName: headFull, tensor, layout: 'linear' };
        this.weights.push(this.head);
      }
      const W = (n: string) => byName.get(n)!;
      const mkLin = (name: string, bias: boolean): Linear => {
        const l: Linear = { module: prefix + name, weight: W(`${name}.weight`), ...(bias ? { bias: W(`${name}.bias`) } : {}) };
        this.linears.push(l);
        return l;
      };
      if (gpt2) {
        this.embed = W('wte.weight');
        this.positions = W('wpe.weight');
        for (let i = 0; i < s.numLayers; i++) {
          const p = `h.${i}`;
          this.blocks.push({
            norm1: [W(`${p}.ln_1.weight`), W(`${p}.ln_1.bias`)],
            norm2: [W(`${p}.ln_2.weight`), W(`${p}.ln_2.bias`)],
            q: mkLin(`${p}.attn.c_attn`, true),
            o: mkLin(`${p}.attn.c_proj`, true),
            mlp: [mkLin(`${p}.mlp.c_fc`, true), mkLin(`${p}.mlp.c_proj`, true)],
          });
        }
        this.finalNorm = [W('ln_f.weight'), W('ln_f.bias')];
      } else {
        this.embed = W('embed_tokens.weight');
        for (let i = 0; i < s.numLayers; i++) {
          const p = `layers.${i}`;
          this.blocks.push({
            norm1: [W(`${p}.input_layernorm.weight`)],
            norm2: [W(`${p}.post_attention_layernorm.weight`)],
            q: mkLin(`${p}.self_attn.q_proj`, s.qkvBias),
            k: mkLin(`${p}.self_attn.k_proj`, s.qkvBias),
            v: mkLin(`${p}.self_attn.v_proj`, s.qkvBias),
            o: mkLin(`${p}.self_attn.o_proj`, s.outBias),
            mlp: [mkLin(`${p}.mlp.gate_proj`, s.mlpBias), mkLin(`${p}.mlp.up_proj`, s.mlpBias), mkLin(`${p}.mlp.down_proj`, s.mlpBias)],
          });
        }
        this.finalNorm = [W('norm.weight')];
      }
      if (opts.lora) this.addLora(opts.lora, opts.seed ?? 0);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  private addLora(cfg: NonNullable<LoadOptions['lora']>, seed: number): void {
    const targets = cfg.targetModules?.length ? cfg.targetModules : [...LORA_TARGETS_DEFAULT[this.spec.modelType]];
    this.loraCfg = { rank: cfg.rank, alpha: cfg.alpha, dropout: cfg.dropout ?? 0, targetModules: targets };
    const known = new Set(this.linears.map((l) => l.module.split('.').pop()!));
    const unknown = targets.filter((t) => !known.has(t));
    if (unknown.length)
      throw new Error(`LoRA target module(s) ${unknown.join(', ')} not in this ${this.spec.modelType} model; it has ${[...known].join(', ')}`);
    const rng = new Rng(seed, 'lora-init');
    for (const l of this.linears) {
      if (!targets.includes(l.module.split('.').pop()!)) continue;
      const [inDim, outDim] = l.weight.tensor.shape;
      // PEFT's default: A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in), B = 0, so training starts at the base model.
      const bound = 1 / Math.sqrt(inDim);
      const a = new Float32Array(inDim * cfg.rank);
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
      l.lora = {
        a: tf.variable(tf.tensor2d(a, [inDim, cfg.rank]), true),
        b: tf.variable(tf.zeros([cfg.rank, outDim]), true),
        scale: cfg.alpha / cfg.rank,
        dropout: cfg.dropout ?? 0,
      };
      this.trainable.push(l.lora.a, l.lora.b);
    }
  }

  forward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const s = this.spec;
    const [B, T] = inputIds.shape;
    if (T > s.maxPositions && s.modelType === 'gpt2') throw new Error(`sequence of ${T} tokens is longer than the model's ${s.maxPositions} positions`);
    return tf.tidy(() => {
      const hn = this.trunk(inputIds, opts, attentionBias(attentionMask), null, null);
      const logits = this.logitsOf(hn);
      return tf.reshape(logits, [B, T, s.vocabSize]) as tf.Tensor3D;
    });
  }

  hidden(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const s = this.spec;
    const [B, T] = inputIds.shape;
    if (T > s.maxPositions && s.modelType === 'gpt2') throw new Error(`sequence of ${T} tokens is longer than the model's ${s.maxPositions} positions`);
    return tf.tidy(() => tf.reshape(this.trunk(inputIds, opts, attentionBias(attentionMask), null, null), [B, T, s.hiddenSize]) as tf.Tensor3D);
  }

  startCache(batch: number, maxLen: number): KVCache {
    const L = this.blocks.length;
    const cache: KVCache = {
      batch,
      maxLen,
      length: 0,
      keys: new Array<tf.Tensor4D | null>(L).fill(null),
      values: new Array<tf.Tensor4D | null>(L).fill(null),
      mask: Array.from({ length: batch }, () => []),
      nextPos: new Int32Array(batch),
      dispose() {
        for (const t of [...cache.keys, ...cache.values]) t?.dispose();
        cache.keys.fill(null);
        cache.values.fill(null);
      },
    };
    return cache;
  }

  forwardCached(inputIds: tf.Tensor2D, cache: KVCache, attentionMask?: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const s = this.spec;
    const [B, t] = inputIds.shape;
    if (B !== cache.batch) throw new Error(`the KV cache has ${cache.batch} rows, the input ${B}`);
    if (cache.length + t > cache.maxLen) throw new Error(`the KV cache holds ${cache.maxLen} tokens; ${cache.length} + ${t} do not fit`);
    const m = attentionMask ? attentionMask.dataSync() : new Float32Array(B * t).fill(1);
    const past = cache.length;
    const positions = new Int32Array(B * t);
    const nextPos = Int32Array.from(cache.nextPos);
    const keyMask = new Float32Array(B * (past + t));
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < past; j++) keyMask[b * (past + t) + j] = cache.mask[b][j];
      for (let i = 0; i < t; i++) {
        const real = m[b * t + i] > 0;
        keyMask[b * (past + t) + past + i] = real ? 1 : 0;
        positions[b * t + i] = nextPos[b];
        if (real) {
          if (nextPos[b] >= s.maxPositions) throw new Error(`position ${nextPos[b]} is beyond the model's ${s.maxPositions} positions (its context)`);
          nextPos[b]++;
        }
      }
    }
    const logits = tf.tidy(() => {
      const bias = cachedAttentionBias(keyMask, B, past, t);
      const hn = this.trunk(inputIds, opts, bias, positions, cache);
      return tf.reshape(this.logitsOf(hn), [B, t, s.vocabSize]) as tf.Tensor3D;
    });
    cache.length = past + t;
    cache.nextPos = nextPos;
    for (let b = 0; b < B; b++) for (let i = 0; i < t; i++) cache.mask[b].push(m[b * t + i] > 0 ? 1 : 0);
    return logits;
  }

  /**
   * The blocks and the final norm: hidden states [B·T, d]. Without positions, token t sits at position t (right
   * padding); with them (per row, [B·T]) RoPE and GPT-2's learned positions read those. With a cache, each layer's
   * keys and values are appended to it and attention reads the whole of it. Runs inside the caller's tidy.
   */
  private trunk(inputIds: tf.Tensor2D, opts: ForwardOptions, bias: tf.Tensor4D, positions: Int32Array | null, cache: KVCache | null): tf.Tensor2D {
    const s = this.spec;
    const [B, T] = inputIds.shape;
    const flatIds = tf.reshape(inputIds, [B * T]);
    let h = tf.gather(this.embed.tensor, flatIds) as tf.Tensor2D;
    if (this.positions) {
      const pos = positions
        ? tf.gather(this.positions.tensor, tf.tensor1d(positions, 'int32'))
        : tf.tile(tf.slice(this.positions.tensor, [0, 0], [T, s.hiddenSize]), [B, 1]);
      h = tf.add(h, pos);
    }
    const rope = s.modelType === 'gpt2' ? null : positions ? ropeTablesAt(s, positions, B, T) : ropeTables(s, T);
    const H = s.numHeads;
    const KV = s.numKvHeads;
    const D = s.headDim;
    // every projection draws its LoRA dropout from a seed of its own, in call order, so a checkpointed block's
    // recomputation draws the same masks
    let seed = opts.dropoutSeed ?? 0;
    const linearsPerBlock = s.modelType === 'gpt2' ? 4 : 7;
    // with a cache: this layer's keys/values appended to the cached ones, which the cache then keeps
    const withCache = (layer: number, k: tf.Tensor4D, v: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] => {
      if (!cache) return [k, v];
      const pk = cache.keys[layer];
      const pv = cache.values[layer];
      const nk = pk ? (tf.concat([pk, k], 2) as tf.Tensor4D) : k;
      const nv = pv ? (tf.concat([pv, v], 2) as tf.Tensor4D) : v;
      cache.keys[layer] = tf.keep(nk);
      cache.values[layer] = tf.keep(nv);
      pk?.dispose();
      pv?.dispose();
      return [nk, nv];
    };
    // the attention bias and RoPE tables reach a block as arguments: a checkpointed block recomputes with its own copies
    const consts: tf.Tensor[] = rope ? [bias, rope.cos, rope.sin] : [bias];
    const block =
      (blk: Block, layer: number, seedBase: number) =>
      (h: tf.Tensor2D, c: readonly tf.Tensor[]): tf.Tensor2D => {
        const bias = c[0] as tf.Tensor4D;
        const rope = c.length > 1 ? { cos: c[1], sin: c[2] } : null;
        let blockSeed = seedBase;
        const lin = (x: tf.Tensor2D, l: Linear) => linear(x, l, opts, blockSeed++);
        if (s.modelType === 'gpt2') {
          const x = layerNorm(h, blk.norm1[0].tensor, blk.norm1[1]!.tensor, s.normEps);
          const qkv = lin(x, blk.q);
          const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[];
          const [kc, vc] = withCache(layer, splitHeads(k, B, T, H, D), splitHeads(v, B, T, H, D));
          const a = attention(splitHeads(q, B, T, H, D), kc, vc, bias);
          const h1 = tf.add(h, lin(a, blk.o)) as tf.Tensor2D;
          const x2 = layerNorm(h1, blk.norm2[0].tensor, blk.norm2[1]!.tensor, s.normEps);
          return tf.add(h1, lin(geluTanh(lin(x2, blk.mlp[0])) as tf.Tensor2D, blk.mlp[1]));
        }
        const x = rmsNorm(h, blk.norm1[0].tensor, s.normEps);
        let q = splitHeads(lin(x, blk.q), B, T, H, D);
        let k = splitHeads(lin(x, blk.k!), B, T, KV, D);
        const v = splitHeads(lin(x, blk.v!), B, T, KV, D);
        q = applyRope(q, rope!.cos, rope!.sin);
        k = applyRope(k, rope!.cos, rope!.sin);
        const [kc, vc] = withCache(layer, k, v);
        const h1 = tf.add(h, lin(attention(q, kc, vc, bias), blk.o)) as tf.Tensor2D;
        const x2 = rmsNorm(h1, blk.norm2[0].tensor, s.normEps);
        const [gate, up, down] = blk.mlp;
        const g = lin(x2, gate);
        const act = tf.mul(tf.mul(g, tf.sigmoid(g)), lin(x2, up)) as tf.Tensor2D;
        return tf.add(h1, lin(act, down));
      };
    const checkpoint = opts.training === true && opts.checkpoint === true && !cache;
    this.blocks.forEach((blk, layer) => {
      const run = block(blk, layer, seed);
      seed += linearsPerBlock;
      // a block's own tidy frees its intermediates as soon as it ends (a tape keeps what the backward pass needs)
      h = checkpoint ? checkpointed(run, h, consts, blockVariables(blk, opts)) : tf.tidy(() => run(h, consts));
    });
    return s.modelType === 'gpt2'
      ? layerNorm(h, this.finalNorm[0].tensor, this.finalNorm[1]!.tensor, s.normEps)
      : rmsNorm(h, this.finalNorm[0].tensor, s.normEps);
  }

  trainableVariables(): tf.Variable[] {
    return this.trainable;
  }

  exportWeights(mode: 'merged' | 'adapter'): Record<string, FloatTensor> {
    const out: Record<string, FloatTensor> = {};
    const dump = (t: tf.Tensor): FloatTensor => ({ shape: t.shape.slice(), data: t.dataSync() as Float32Array });
    if (mode === 'adapter') {
      if (!this.loraCfg) throw new Error('this model has no LoRA adapters to export');
      for (const l of this.linears) {
        if (!l.lora) continue;
        const base = `base_model.model.${l.module}`;
        tf.tidy(() => {
          out[`${base}.lora_A.weight`] = dump(tf.transpose(l.lora!.a));
          out[`${base}.lora_B.weight`] = dump(tf.transpose(l.lora!.b));
        });
      }
      return out;
    }
    const merged = new Map<Weight, tf.Tensor>();
    for (const l of this.linears)
      if (l.lora)
        merged.set(
          l.weight,
          tf.tidy(() => tf.add(l.weight.tensor, tf.mul(tf.matMul(l.lora!.a, l.lora!.b), l.lora!.scale))),
        );
    for (const w of this.weights) {
      const t = merged.get(w) ?? w.tensor;
      if (w.layout === 'linear') {
        const tr = tf.transpose(t);
        out[w.hfName] = dump(tr);
        tr.dispose();
      } else out[w.hfName] = dump(t);
    }
    tf.dispose([...merged.values()]);
    return out;
  }

  adapterConfig(): Record<string, unknown> {
    if (!this.loraCfg) throw new Error('this model has no LoRA adapters');
    return {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: this.loraCfg.rank,
      lora_alpha: this.loraCfg.alpha,
      lora_dropout: this.loraCfg.dropout,
      target_modules: this.loraCfg.targetModules,
      fan_in_fan_out: this.spec.modelType === 'gpt2',
      bias: 'none',
      inference_mode: true,
    };
  }

  loadAdapter(dir: string): void {
    const file = `${dir}/adapter_model.safetensors`;
    const tensors = readSafetensorsFile(file);
    for (const l of this.linears) {
      if (!l.lora) continue;
      const base = `base_model.model.${l.module}`;
      for (const [key, v, shape] of [
        [`${base}.lora_A.weight`, l.lora.a, [l.lora.a.shape[1], l.lora.a.shape[0]]],
        [`${base}.lora_B.weight`, l.lora.b, [l.lora.b.shape[1], l.lora.b.shape[0]]],
      ] as const) {
        const t = tensors.get(key) ?? tensors.get(key.replace('.weight', '.default.weight'));
        if (!t) throw new Error(`${file}: tensor ${key} is missing`);
        if (t.shape.join(',') !== shape.join(',')) throw new Error(`${file}: tensor ${key} has shape [${t.shape}], expected [${shape}]`);
        v.assign(tf.tidy(() => tf.transpose(tf.tensor(t.data, t.shape, 'float32'))));
      }
    }
  }

  dispose(): void {
    // the pair holds at most one kept transpose; the other member is a model weight, disposed below
    if (this.frozenHeadPair) (this.head ? this.frozenHeadPair.wT : this.frozenHeadPair.w)?.dispose();
    for (const w of this.weights) w.tensor.dispose();
    for (const l of this.linears) {
      if (l.lora) tf.dispose([l.lora.a, l.lora.b]);
      l.frozenT?.dispose();
    }
    this.weights.length = 0;
  }
}

/**
 * Loads a Hugging Face model folder (gpt2, llama, qwen2) into tfjs. Without LoRA and with `train`, every weight is a
 * Variable (full fine-tuning); with LoRA only the adapters are, and `adapters: false` in forward() is the base model.
 * Any problem (unknown model_type, missing tensor, wrong shape, truncated file) throws before the model is usable,
 * and whatever was created is disposed.
 */
export async function loadCausalLM(dir: string, opts: LoadOptions = {}): Promise<CausalLM> {
  registerLlmKernels();
  const spec = readModelSpec(dir);
  const m = new Model(spec, dir);
  m.load(opts);
  return m;
}
