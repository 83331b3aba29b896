import fs from 'node:fs';
import path from 'node:path';
import type { ModelInspection } from '@shared/contract';
import type { ModelSpec } from '@shared/llm-model';
import { LORA_TARGETS_DEFAULT } from '@shared/llm-config';
import { readModelSpec } from './model-config';
import { modelTensorEntries } from './safetensors';
import { loadTokenizer } from './tokenizer';
import { estimateTrainingBytes, loraParameterCount, usesCheckpointing, WASM_USABLE_BYTES } from './memory';

const ARCH = { gpt2: 'GPT2LMHeadModel', llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM' } as const;

/** The Models view and `lab model`: what a folder holds, read from config.json, the tokenizer and the safetensors headers (no weights are loaded). */
export async function inspectModel(dir: string, o: { maxLength: number; batchSize?: number }): Promise<ModelInspection> {
  const abs = path.resolve(dir);
  const spec = readModelSpec(abs);
  const entries = modelTensorEntries(abs);
  const tok = await loadTokenizer(abs);
  let parameters = 0;
  const dtypes = new Set<string>();
  for (const e of entries.values()) {
    // GPT-2 checkpoints carry attention-mask buffers (attn.bias) that are not parameters
    if (/\.attn\.(masked_)?bias$/.test(e.name)) continue;
    parameters += e.shape.reduce((a, d) => a * d, 1);
    dtypes.add(e.dtype);
  }
  const cfg = JSON.parse(fs.readFileSync(path.join(abs, 'config.json'), 'utf8')) as { architectures?: string[] };
  const batchSize = o.batchSize ?? 1;
  const lora = loraParameterCount(spec, 8, LORA_TARGETS_DEFAULT[spec.modelType]);
  return {
    path: abs,
    modelType: spec.modelType,
    architecture: cfg.architectures?.[0] ?? ARCH[spec.modelType],
    parameters,
    dtypes: [...dtypes].sort(),
    vocabSize: spec.vocabSize,
    contextLength: spec.maxPositions,
    layers: spec.numLayers,
    hiddenSize: spec.hiddenSize,
    heads: spec.numHeads,
    kvHeads: spec.numKvHeads,
    tieWordEmbeddings: spec.tieWordEmbeddings,
    hasChatTemplate: tok.chatTemplate !== null,
    eosToken: tok.eosToken,
    weightBytes: parameters * 4,
    memoryEstimate: {
      // as a run with the default (auto) activation checkpointing would plan it
      lora: autoEstimate(spec, { trainable: lora, batchSize, maxLength: o.maxLength }),
      full: autoEstimate(spec, { trainable: parameters, batchSize, maxLength: o.maxLength }),
      maxLength: o.maxLength,
      batchSize,
    },
    wasmHeapCap: WASM_USABLE_BYTES,
  };
}

function autoEstimate(spec: ModelSpec, o: { trainable: number; batchSize: number; maxLength: number }): number {
  return estimateTrainingBytes(spec, { ...o, checkpoint: usesCheckpointing('auto', spec, o) });
}
