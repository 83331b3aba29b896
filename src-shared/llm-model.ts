import { z } from 'zod';

/** The architectures the LLM lab implements (config.json's model_type). */
export const MODEL_TYPES = ['gpt2', 'llama', 'qwen2'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

const int = z.number().int().positive();
const RopeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: int.optional(),
  })
  .passthrough()
  .nullable()
  .optional();

/** The fields of config.json the lab reads, per architecture (everything else is kept but ignored). */
export const Gpt2ConfigSchema = z
  .object({
    model_type: z.literal('gpt2'),
    vocab_size: int,
    n_positions: int,
    n_embd: int,
    n_layer: int,
    n_head: int,
    n_inner: int.nullable().optional(),
    layer_norm_epsilon: z.number().positive().default(1e-5),
    activation_function: z.string().default('gelu_new'),
    tie_word_embeddings: z.boolean().default(true),
    bos_token_id: z.number().int().nullable().optional(),
    eos_token_id: z.number().int().nullable().optional(),
  })
  .passthrough();

export const LlamaConfigSchema = z
  .object({
    model_type: z.enum(['llama', 'qwen2']),
    vocab_size: int,
    hidden_size: int,
    intermediate_size: int,
    num_hidden_layers: int,
    num_attention_heads: int,
    num_key_value_heads: int.optional(),
    head_dim: int.nullable().optional(),
    max_position_embeddings: int.default(2048),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: RopeScalingSchema,
    tie_word_embeddings: z.boolean().default(false),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    hidden_act: z.string().default('silu'),
    bos_token_id: z
      .union([z.number().int(), z.array(z.number().int())])
      .nullable()
      .optional(),
    eos_token_id: z
      .union([z.number().int(), z.array(z.number().int())])
      .nullable()
      .optional(),
  })
  .passthrough();

/** A model's shape and options, the same for every architecture (what the tfjs model code reads). */
export interface ModelSpec {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  normEps: number;
  ropeTheta: number;
  ropeScaling: { type: 'linear' | 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number } | null;
  tieWordEmbeddings: boolean;
  /** q, k, v projections carry biases (qwen2; llama with attention_bias) */
  qkvBias: boolean;
  /** the output projection carries a bias (llama with attention_bias) */
  outBias: boolean;
  mlpBias: boolean;
  activation: string;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

/** A parameter count as people read it: 124_439_808 → "124.4M", 1.1e9 → "1.10B", 30_112 → "30.1K". */
export function formatParameterCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}
