import type { ModelSpec } from '@shared/llm-model';

/** The WASM backend's heap is a 32-bit address space: 4 GiB at most, whatever the machine has. */
export const WASM_HEAP_CAP = 4 * 1024 ** 3;
/**
 * What a run may plan to use of that heap: tfjs's temporaries and the heap's growth need the rest. Measured: GPT-2
 * small with LoRA at 2×512 tokens (estimated 3.4 GB) runs the heap out; 4 layers × 256 at 2×128 (0.3 GB) trains.
 */
export const WASM_USABLE_BYTES = 3 * 1024 ** 3;

export function parameterCount(s: ModelSpec): number {
  const d = s.hiddenSize;
  const kv = s.numKvHeads * s.headDim;
  const attn = d * (s.numHeads * s.headDim) + 2 * d * kv + s.numHeads * s.headDim * d;
  const mlp = s.modelType === 'gpt2' ? 2 * d * s.intermediateSize : 3 * d * s.intermediateSize;
  const embed = s.vocabSize * d + (s.modelType === 'gpt2' ? s.maxPositions * d : 0);
  const head = s.tieWordEmbeddings ? 0 : s.vocabSize * d;
  return s.numLayers * (attn + mlp + 4 * d) + embed + head + 2 * d;
}

/** Trainable parameters of rank-r adapters on the named projections (each adds r·(in + out)). */
export function loraParameterCount(s: ModelSpec, rank: number, targets: readonly string[]): number {
  const d = s.hiddenSize;
  const q = s.numHeads * s.headDim;
  const kv = s.numKvHeads * s.headDim;
  const shapes: Record<string, [number, number]> = {
    q_proj: [d, q],
    k_proj: [d, kv],
    v_proj: [d, kv],
    o_proj: [q, d],
    gate_proj: [d, s.intermediateSize],
    up_proj: [d, s.intermediateSize],
    down_proj: [s.intermediateSize, d],
    c_attn: [d, 3 * d],
    c_proj: [d, d],
    c_fc: [d, s.intermediateSize],
  };
  return s.numLayers * targets.reduce((n, t) => n + (shapes[t] ? rank * (shapes[t][0] + shapes[t][1]) : 0), 0);
}

/**
 * A rough upper estimate of a training step's memory: float32 weights, gradients and two AdamW moments of the
 * trainable part, and the activations tfjs keeps for the backward pass of 2·batch sequences (chosen and
 * rejected) of maxLength tokens, plus the logits and their gradient, and the transposed copies of frozen weights.
 * Per layer, tfjs's tape keeps about 48 hidden-sized values, 12 intermediate-sized ones and 6 attention scores per
 * head for every token (measured: 476 MB per GPT-2-small layer at 2×512 tokens). With activation checkpointing a
 * layer keeps only its input, and one layer's worth is alive at a time in the backward pass. Good to a factor of
 * about 1.5; it decides refusals and whether `auto` checkpoints, not placement.
 */
export function estimateTrainingBytes(s: ModelSpec, o: { trainable: number; batchSize: number; maxLength: number; checkpoint?: boolean }): number {
  const P = parameterCount(s);
  const rows = 2 * o.batchSize;
  const T = o.maxLength;
  const perLayer = rows * T * (48 * s.hiddenSize + 12 * s.intermediateSize + 6 * s.numHeads * T);
  const activations = o.checkpoint ? s.numLayers * rows * T * s.hiddenSize + perLayer : s.numLayers * perLayer;
  const logits = 3 * rows * T * s.vocabSize;
  // frozen weights are also kept transposed for their input gradients (models/layers.ts): up to another P
  return 4 * (2 * P + 3 * o.trainable + activations + logits);
}

/** Above this estimate of the kept activations, `gradientCheckpointing: 'auto'` turns checkpointing on. */
export const AUTO_CHECKPOINT_BYTES = 1024 ** 3;

/** Whether a run checkpoints activations: as configured, or under `auto` when the plain estimate's activations are large. */
export function usesCheckpointing(mode: 'auto' | 'on' | 'off', s: ModelSpec, o: { trainable: number; batchSize: number; maxLength: number }): boolean {
  if (mode !== 'auto') return mode === 'on';
  const plain = estimateTrainingBytes(s, { ...o, checkpoint: false });
  const checkpointed = estimateTrainingBytes(s, { ...o, checkpoint: true });
  return plain - checkpointed > AUTO_CHECKPOINT_BYTES;
}
