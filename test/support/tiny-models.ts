/**
 * Tiny random causal LMs written in the Hugging Face layout (config.json + safetensors), for tests. Weights are
 * seeded, so a test can rebuild the same model; dtypes F32, F16 and BF16, and a sharded variant with an index.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src-main/engine/synthetic/rng';
import { writeTinyByteTokenizer } from './tokenizers';

export type TinyArch = 'gpt2' | 'llama' | 'qwen2';
export type Dtype = 'F32' | 'F16' | 'BF16';

export interface TinyModelOptions {
  arch: TinyArch;
  vocabSize?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  maxPositions?: number;
  tie?: boolean;
  dtype?: Dtype;
  /** split the weights into this many shards with model.safetensors.index.json */
  shards?: number;
  ropeScaling?: Record<string, unknown>;
  seed?: number;
  /** weight scale (std of the normal draws) */
  scale?: number;
  /** write the tiny byte-level tokenizer too (default true) */
  tokenizer?: boolean;
  chatTemplate?: string;
}

/** float32 → IEEE half bits, round to nearest even. */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 → bfloat16 bits, round to nearest even. */
export function floatToBf16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

export interface WrittenTensor {
  shape: number[];
  /** the values as stored (after rounding to the dtype), as float64 for references */
  values: Float64Array;
}

function encode(values: Float64Array, dtype: Dtype): { bytes: Buffer; stored: Float64Array } {
  const n = values.length;
  if (dtype === 'F32') {
    const f = Float32Array.from(values);
    return { bytes: Buffer.from(f.buffer), stored: Float64Array.from(f) };
  }
  const u = new Uint16Array(n);
  const stored = new Float64Array(n);
  const back = new Float32Array(1);
  const back32 = new Uint32Array(back.buffer);
  for (let i = 0; i < n; i++) {
    if (dtype === 'BF16') {
      u[i] = floatToBf16(values[i]);
      back32[0] = u[i] << 16;
      stored[i] = back[0];
    } else {
      u[i] = floatToHalf(values[i]);
      const h = u[i];
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      stored[i] = e === 0 ? s * 2 ** -14 * (m / 1024) : s * 2 ** (e - 15) * (1 + m / 1024);
    }
  }
  return { bytes: Buffer.from(u.buffer), stored };
}

/** Writes one safetensors file with tensors in the given dtype (as Hugging Face would save them). */
export function writeTypedSafetensors(
  file: string,
  tensors: Record<string, { shape: number[]; values: Float64Array }>,
  dtype: Dtype,
): Record<string, WrittenTensor> {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Buffer[] = [];
  const written: Record<string, WrittenTensor> = {};
  let offset = 0;
  for (const n of names) {
    const { bytes, stored } = encode(tensors[n].values, dtype);
    header[n] = { dtype, shape: tensors[n].shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    chunks.push(bytes);
    written[n] = { shape: tensors[n].shape, values: stored };
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...chunks]));
  return written;
}

/**
 * Writes a tiny model folder and returns its weights as stored (float64 copies of the rounded values, in the
 * Hugging Face names and layouts) for an independent reference implementation.
 */
export function writeTinyModel(dir: string, o: TinyModelOptions): { weights: Record<string, WrittenTensor>; config: Record<string, unknown> } {
  fs.mkdirSync(dir, { recursive: true });
  const tokenizer = o.tokenizer ?? true;
  const tok = tokenizer ? writeTinyByteTokenizer(dir, { chatTemplate: o.chatTemplate }) : null;
  const V = o.vocabSize ?? tok?.vocabSize ?? 273;
  const d = o.hidden ?? 16;
  const L = o.layers ?? 2;
  const H = o.heads ?? 4;
  const KV = o.kvHeads ?? H;
  const D = d / H;
  const I = o.intermediate ?? 4 * d;
  const P = o.maxPositions ?? 128;
  const tie = o.tie ?? o.arch === 'gpt2';
  const rng = new Rng(o.seed ?? 1, 'tiny-model');
  const scale = o.scale ?? 0.2;
  const t: Record<string, { shape: number[]; values: Float64Array }> = {};
  const rand = (name: string, shape: number[], mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    t[name] = { shape, values: Float64Array.from({ length: n }, () => mean + scale * rng.normal()) };
  };
  let config: Record<string, unknown>;
  if (o.arch === 'gpt2') {
    rand('transformer.wte.weight', [V, d]);
    rand('transformer.wpe.weight', [P, d]);
    for (let i = 0; i < L; i++) {
      const p = `transformer.h.${i}`;
      rand(`${p}.ln_1.weight`, [d], 1);
      rand(`${p}.ln_1.bias`, [d]);
      rand(`${p}.attn.c_attn.weight`, [d, 3 * d]);
      rand(`${p}.attn.c_attn.bias`, [3 * d]);
      rand(`${p}.attn.c_proj.weight`, [d, d]);
      rand(`${p}.attn.c_proj.bias`, [d]);
      rand(`${p}.ln_2.weight`, [d], 1);
      rand(`${p}.ln_2.bias`, [d]);
      rand(`${p}.mlp.c_fc.weight`, [d, I]);
      rand(`${p}.mlp.c_fc.bias`, [I]);
      rand(`${p}.mlp.c_proj.weight`, [I, d]);
      rand(`${p}.mlp.c_proj.bias`, [d]);
    }
    rand('transformer.ln_f.weight', [d], 1);
    rand('transformer.ln_f.bias', [d]);
    if (!tie) rand('lm_head.weight', [V, d]);
    config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: V,
      n_positions: P,
      n_embd: d,
      n_layer: L,
      n_head: H,
      n_inner: I,
      layer_norm_epsilon: 1e-5,
      activation_function: 'gelu_new',
      tie_word_embeddings: tie,
      bos_token_id: tok?.eosId ?? V - 1,
      eos_token_id: tok?.eosId ?? V - 1,
    };
  } else {
    rand('model.embed_tokens.weight', [V, d]);
    for (let i = 0; i < L; i++) {
      const p = `model.layers.${i}`;
      rand(`${p}.input_layernorm.weight`, [d], 1);
      rand(`${p}.self_attn.q_proj.weight`, [H * D, d]);
      rand(`${p}.self_attn.k_proj.weight`, [KV * D, d]);
      rand(`${p}.self_attn.v_proj.weight`, [KV * D, d]);
      if (o.arch === 'qwen2') {
        rand(`${p}.self_attn.q_proj.bias`, [H * D]);
        rand(`${p}.self_attn.k_proj.bias`, [KV * D]);
        rand(`${p}.self_attn.v_proj.bias`, [KV * D]);
      }
      rand(`${p}.self_attn.o_proj.weight`, [d, H * D]);
      rand(`${p}.post_attention_layernorm.weight`, [d], 1);
      rand(`${p}.mlp.gate_proj.weight`, [I, d]);
      rand(`${p}.mlp.up_proj.weight`, [I, d]);
      rand(`${p}.mlp.down_proj.weight`, [d, I]);
    }
    rand('model.norm.weight', [d], 1);
    if (!tie) rand('lm_head.weight', [V, d]);
    config = {
      architectures: [o.arch === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
      model_type: o.arch,
      vocab_size: V,
      hidden_size: d,
      intermediate_size: I,
      num_hidden_layers: L,
      num_attention_heads: H,
      num_key_value_heads: KV,
      max_position_embeddings: P,
      rms_norm_eps: 1e-6,
      rope_theta: 10000,
      rope_scaling: o.ropeScaling ?? null,
      tie_word_embeddings: tie,
      hidden_act: 'silu',
      bos_token_id: tok?.eosId ?? V - 1,
      eos_token_id: tok?.eosId ?? V - 1,
    };
  }
  config.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[o.dtype ?? 'F32'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const dtype = o.dtype ?? 'F32';
  const shards = o.shards ?? 1;
  let weights: Record<string, WrittenTensor> = {};
  if (shards <= 1) weights = writeTypedSafetensors(path.join(dir, 'model.safetensors'), t, dtype);
  else {
    const names = Object.keys(t).sort();
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = Object.fromEntries(names.filter((_, i) => i % shards === s).map((n) => [n, t[n]]));
      Object.assign(weights, writeTypedSafetensors(path.join(dir, file), part, dtype));
      for (const n of Object.keys(part)) weightMap[n] = file;
    }
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  }
  return { weights, config };
}
