import fs from 'node:fs';
import path from 'node:path';
import { Gpt2ConfigSchema, LlamaConfigSchema, MODEL_TYPES, type ModelSpec } from '@shared/llm-model';
import { formatZodIssues } from '@shared/errors';

/** transformers' names for the tanh approximation of GELU, the activation models/layers.ts computes for GPT-2. */
const GPT2_TANH_GELUS: readonly string[] = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'];

const first = (v: number | number[] | null | undefined): number | null => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null));

/** Reads a model folder's config.json into a ModelSpec; every problem names the file and the field. */
export function readModelSpec(dir: string): ModelSpec {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such folder`);
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (a Hugging Face model folder has config.json)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const type = raw.model_type;
  if (type === 'gpt2') {
    const r = Gpt2ConfigSchema.safeParse(raw);
    if (!r.success) throw new Error(`${file}: ${formatZodIssues(r.error)}`);
    const c = r.data;
    if (c.n_embd % c.n_head !== 0) throw new Error(`${file}: n_embd ${c.n_embd} is not a multiple of n_head ${c.n_head}`);
    // The model computes GELU's tanh form only; "gelu" (the exact erf form) would give silently different numbers.
    if (!GPT2_TANH_GELUS.includes(c.activation_function))
      throw new Error(`${file}: activation_function "${c.activation_function}" is not supported (${GPT2_TANH_GELUS.join(', ')})`);
    return {
      modelType: 'gpt2',
      vocabSize: c.vocab_size,
      hiddenSize: c.n_embd,
      numLayers: c.n_layer,
      numHeads: c.n_head,
      numKvHeads: c.n_head,
      headDim: c.n_embd / c.n_head,
      intermediateSize: c.n_inner ?? 4 * c.n_embd,
      maxPositions: c.n_positions,
      normEps: c.layer_norm_epsilon,
      ropeTheta: 0,
      ropeScaling: null,
      tieWordEmbeddings: c.tie_word_embeddings,
      qkvBias: true,
      outBias: true,
      mlpBias: true,
      activation: c.activation_function,
      bosTokenId: c.bos_token_id ?? null,
      eosTokenId: c.eos_token_id ?? null,
    };
  }
  if (type === 'llama' || type === 'qwen2') {
    const r = LlamaConfigSchema.safeParse(raw);
    if (!r.success) throw new Error(`${file}: ${formatZodIssues(r.error)}`);
    const c = r.data;
    const kv = c.num_key_value_heads ?? c.num_attention_heads;
    if (c.num_attention_heads % kv !== 0)
      throw new Error(`${file}: num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${kv}`);
    const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
    if (!Number.isInteger(headDim)) throw new Error(`${file}: hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
    if (c.hidden_act !== 'silu') throw new Error(`${file}: hidden_act "${c.hidden_act}" is not supported (silu)`);
    let ropeScaling: ModelSpec['ropeScaling'] = null;
    const rs = c.rope_scaling;
    if (rs) {
      const kind = rs.rope_type ?? rs.type ?? 'default';
      if (kind === 'linear' || kind === 'llama3') {
        if (!rs.factor) throw new Error(`${file}: rope_scaling.factor is missing`);
        ropeScaling = {
          type: kind,
          factor: rs.factor,
          lowFreqFactor: rs.low_freq_factor ?? 1,
          highFreqFactor: rs.high_freq_factor ?? 4,
          originalMaxPositions: rs.original_max_position_embeddings ?? 8192,
        };
      } else if (kind !== 'default') throw new Error(`${file}: rope_scaling type "${kind}" is not supported (linear, llama3)`);
    }
    return {
      modelType: c.model_type,
      vocabSize: c.vocab_size,
      hiddenSize: c.hidden_size,
      numLayers: c.num_hidden_layers,
      numHeads: c.num_attention_heads,
      numKvHeads: kv,
      headDim,
      intermediateSize: c.intermediate_size,
      maxPositions: c.max_position_embeddings,
      normEps: c.rms_norm_eps,
      ropeTheta: c.rope_theta,
      ropeScaling,
      tieWordEmbeddings: c.tie_word_embeddings,
      qkvBias: c.model_type === 'qwen2' || c.attention_bias,
      outBias: c.model_type === 'llama' && c.attention_bias,
      mlpBias: c.mlp_bias,
      activation: c.hidden_act,
      bosTokenId: first(c.bos_token_id),
      eosTokenId: first(c.eos_token_id),
    };
  }
  throw new Error(`${file}: model_type ${JSON.stringify(type)} is not supported; supported: ${MODEL_TYPES.join(', ')}`);
}
