/**
 * A model folder (config.json + model.safetensors, Hugging Face layout) with seeded random weights, for training
 * from scratch: normal(0, 0.02) matrices and embeddings (GPT-2's and Llama's initializer_range), norms at 1,
 * biases at 0, the output head tied to the embeddings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../synthetic/rng';
import { writeSafetensors, type FloatTensor } from '../safetensors';

export interface ScratchModelOptions {
  arch: 'llama' | 'gpt2';
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  /** MLP width (default 4·hidden for gpt2, about 8/3·hidden for llama) */
  intermediate?: number;
  maxPositions: number;
  seed: number;
  bosId: number;
  eosId: number;
  padId: number;
  initStd?: number;
}

export function writeScratchModel(dir: string, o: ScratchModelOptions): { parameters: number } {
  if (o.hidden % o.heads !== 0) throw new Error(`scratch model: hidden size ${o.hidden} is not a multiple of ${o.heads} heads`);
  const rng = new Rng(o.seed, 'scratch-model');
  const std = o.initStd ?? 0.02;
  const d = o.hidden;
  const I = o.intermediate ?? (o.arch === 'gpt2' ? 4 * d : Math.ceil((8 * d) / 3 / 8) * 8);
  const t: Record<string, FloatTensor> = {};
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const normal = (name: string, shape: number[]) => {
    const data = new Float32Array(size(shape));
    for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    t[name] = { shape, data };
  };
  const fill = (name: string, shape: number[], v: number) => (t[name] = { shape, data: new Float32Array(size(shape)).fill(v) });
  let config: Record<string, unknown>;
  if (o.arch === 'gpt2') {
    normal('transformer.wte.weight', [o.vocabSize, d]);
    normal('transformer.wpe.weight', [o.maxPositions, d]);
    for (let i = 0; i < o.layers; i++) {
      const p = `transformer.h.${i}`;
      fill(`${p}.ln_1.weight`, [d], 1);
      fill(`${p}.ln_1.bias`, [d], 0);
      normal(`${p}.attn.c_attn.weight`, [d, 3 * d]);
      fill(`${p}.attn.c_attn.bias`, [3 * d], 0);
      normal(`${p}.attn.c_proj.weight`, [d, d]);
      fill(`${p}.attn.c_proj.bias`, [d], 0);
      fill(`${p}.ln_2.weight`, [d], 1);
      fill(`${p}.ln_2.bias`, [d], 0);
      normal(`${p}.mlp.c_fc.weight`, [d, I]);
      fill(`${p}.mlp.c_fc.bias`, [I], 0);
      normal(`${p}.mlp.c_proj.weight`, [I, d]);
      fill(`${p}.mlp.c_proj.bias`, [d], 0);
    }
    fill('transformer.ln_f.weight', [d], 1);
    fill('transformer.ln_f.bias', [d], 0);
    config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_positions: o.maxPositions,
      n_embd: d,
      n_layer: o.layers,
      n_head: o.heads,
      n_inner: I,
      layer_norm_epsilon: 1e-5,
      activation_function: 'gelu_new',
    };
  } else {
    normal('model.embed_tokens.weight', [o.vocabSize, d]);
    for (let i = 0; i < o.layers; i++) {
      const p = `model.layers.${i}`;
      fill(`${p}.input_layernorm.weight`, [d], 1);
      for (const n of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) normal(`${p}.self_attn.${n}.weight`, [d, d]);
      fill(`${p}.post_attention_layernorm.weight`, [d], 1);
      normal(`${p}.mlp.gate_proj.weight`, [I, d]);
      normal(`${p}.mlp.up_proj.weight`, [I, d]);
      normal(`${p}.mlp.down_proj.weight`, [d, I]);
    }
    fill('model.norm.weight', [d], 1);
    config = {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: d,
      intermediate_size: I,
      num_hidden_layers: o.layers,
      num_attention_heads: o.heads,
      num_key_value_heads: o.heads,
      max_position_embeddings: o.maxPositions,
      rms_norm_eps: 1e-6,
      rope_theta: 10000,
      hidden_act: 'silu',
    };
  }
  config = {
    ...config,
    vocab_size: o.vocabSize,
    tie_word_embeddings: true,
    bos_token_id: o.bosId,
    eos_token_id: o.eosId,
    pad_token_id: o.padId,
    torch_dtype: 'float32',
    initializer_range: std,
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeSafetensors(path.join(dir, 'model.safetensors'), t, { format: 'pt' });
  return { parameters: Object.values(t).reduce((n, x) => n + x.data.length, 0) };
}
