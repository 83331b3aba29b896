import { z } from 'zod';
import { LOSS_CHOICES } from './losses';
import { CustomLossSpecSchema, checkCustomLossChoice } from './custom-losses';
import { LOSS_HELP, unknownLossChoiceMessage, whole, type FieldMetaInfo } from './synthetic-config';

/**
 * One LLM run's configuration: the single schema for `lab run llm` flags, IPC, HTTP, the stored config and the
 * LLM launcher. Defaults are a LoRA recipe that trains a small model on a CPU in minutes; the paper's recipe
 * (β 0.1, lr 5e-7 full fine-tuning, batch 64) is a preset in the launcher (LLM_PRESETS), not the default.
 */
const info = (m: FieldMetaInfo) => m as unknown as Record<string, unknown>;
const positive = (field: string) => z.number({ error: `${field} must be a number` }).positive(`${field} must be positive`);
const fraction = (field: string, max: number) =>
  z
    .number({ error: `${field} must be a number` })
    .min(0, `${field} must be in [0, ${max})`)
    .lt(max, `${field} must be in [0, ${max})`);
const path = (field: string) =>
  z
    .string({ error: `${field} must be a path` })
    .min(1, `${field}: give a path`)
    .max(4096, `${field}: path longer than 4096 characters`);

export const LORA_TARGETS_DEFAULT = { gpt2: ['c_attn'], llama: ['q_proj', 'v_proj'], qwen2: ['q_proj', 'v_proj'] } as const;

export const LlmConfigSchema = z
  .object({
    model: path('model').meta(
      info({ label: 'model folder', group: 'Model', help: 'a Hugging Face model folder on disk (config.json, *.safetensors, tokenizer.json)' }),
    ),
    data: path('data').meta(
      info({
        label: 'preference data',
        group: 'Data',
        help: 'HH-RLHF JSONL(.gz), PKU-SafeRLHF JSONL/Parquet, or JSONL/CSV/Parquet with prompt, chosen, rejected',
      }),
    ),
    dataFormat: z
      .enum(['auto', 'hh', 'saferlhf', 'generic'], { error: 'dataFormat must be auto, hh, saferlhf or generic' })
      .default('auto')
      .meta(info({ label: 'data format', group: 'Data', help: 'auto: detected from the first row' })),
    preference: z
      .enum(['better', 'safer'], { error: 'preference must be "better" or "safer"' })
      .default('better')
      .meta(info({ label: 'preference', group: 'Data', help: 'PKU-SafeRLHF only: better (helpfulness) or safer (harmlessness) pairs' })),
    promptFormat: z
      .enum(['auto', 'chat-template', 'raw'], { error: 'promptFormat must be auto, chat-template or raw' })
      .default('auto')
      .meta(info({ label: 'prompt format', group: 'Data', help: "auto: the model's chat template when it has one, else the dataset's own text" })),
    maxPairs: whole('maxPairs', 0, 10_000_000)
      .default(0)
      .meta(info({ label: 'max pairs', group: 'Data', help: 'use at most this many pairs of the file, in file order; 0 = all' })),
    evalFraction: fraction('evalFraction', 0.9)
      .default(0.1)
      .meta(info({ label: 'eval fraction', group: 'Data', help: 'held-out pairs, split by the seed', step: 0.05 })),
    maxEvalPairs: whole('maxEvalPairs', 0, 100_000)
      .default(64)
      .meta(info({ label: 'max eval pairs', group: 'Data', help: 'cap on the held-out pairs evaluated every N steps' })),
    maxLength: whole('maxLength', 8, 32_768)
      .default(512)
      .meta(info({ label: 'max length', group: 'Data', help: 'tokens per sequence (prompt + response + EOS); truncation keeps the start' })),
    loss: z
      .enum(LOSS_CHOICES, { error: (iss) => unknownLossChoiceMessage(iss.input) })
      .default('dpo')
      .meta(info({ label: 'loss', group: 'Loss', help: LOSS_HELP })),
    /** loss 'custom' only: the formula loss (src-shared/formula), stored with the run */
    customLoss: CustomLossSpecSchema.optional(),
    beta: positive('beta')
      .default(0.1)
      .meta(info({ label: 'β', group: 'Loss', help: 'inverse temperature β', step: 0.05 })),
    clip: positive('clip')
      .default(0.5)
      .meta(info({ label: 'clip Δmax', group: 'Loss', help: 'λ clip for nbDPO; λ ∈ [1, 1+Δmax]', step: 0.1 })),
    labelSmoothing: fraction('labelSmoothing', 0.5)
      .default(0)
      .meta(info({ label: 'label smoothing ε', group: 'Loss', help: 'cdpo ε (conservative DPO), in [0, 0.5)', step: 0.01 })),
    finetune: z
      .enum(['lora', 'full'], { error: 'finetune must be "lora" or "full"' })
      .default('lora')
      .meta(info({ label: 'fine-tuning', group: 'LoRA', help: 'lora: train low-rank adapters (reference = adapters off); full: every weight' })),
    loraRank: whole('loraRank', 1, 1024)
      .default(8)
      .meta(info({ label: 'LoRA rank', group: 'LoRA', help: 'rank r of the adapters' })),
    loraAlpha: positive('loraAlpha')
      .default(16)
      .meta(info({ label: 'LoRA α', group: 'LoRA', help: 'adapter scale α/r', step: 1 })),
    loraDropout: fraction('loraDropout', 1)
      .default(0)
      .meta(info({ label: 'LoRA dropout', group: 'LoRA', help: 'dropout on the adapter input while training', step: 0.05 })),
    loraTargets: z
      .string({ error: 'loraTargets must be a comma-separated list' })
      .regex(/^[A-Za-z0-9_.,]*$/, 'loraTargets: module names separated by commas, e.g. q_proj,v_proj')
      .default('')
      .meta(
        info({ label: 'LoRA targets', group: 'LoRA', help: 'modules with adapters, comma-separated; empty = q_proj,v_proj (llama, qwen2) or c_attn (gpt2)' }),
      ),
    steps: whole('steps', 1, 1_000_000)
      .default(100)
      .meta(info({ label: 'steps', group: 'Training', help: 'optimiser steps (each one batch × grad-accum pairs)' })),
    batchSize: whole('batchSize', 1, 4096)
      .default(2)
      .meta(info({ label: 'batch size', group: 'Training', help: 'pairs per forward pass' })),
    gradAccum: whole('gradAccum', 1, 4096)
      .default(1)
      .meta(info({ label: 'grad accumulation', group: 'Training', help: 'forward passes summed into one optimiser step' })),
    lr: positive('lr')
      .max(1, 'lr must be at most 1')
      .default(1e-4)
      .meta(info({ label: 'learning rate', group: 'Training', help: 'AdamW peak learning rate', step: 0.00001 })),
    schedule: z
      .enum(['linear', 'cosine', 'constant'], { error: 'schedule must be linear, cosine or constant' })
      .default('linear')
      .meta(info({ label: 'schedule', group: 'Training', help: 'decay after the warm-up: linear, cosine or constant' })),
    warmupSteps: whole('warmupSteps', 0, 1_000_000)
      .default(0)
      .meta(info({ label: 'warm-up steps', group: 'Training', help: 'linear warm-up from 0 to lr' })),
    weightDecay: fraction('weightDecay', 1)
      .default(0)
      .meta(info({ label: 'weight decay', group: 'Training', help: 'AdamW decoupled weight decay', step: 0.01 })),
    maxGradNorm: z
      .number({ error: 'maxGradNorm must be a number' })
      .min(0, 'maxGradNorm must be at least 0')
      .default(1)
      .meta(info({ label: 'max grad norm', group: 'Training', help: 'clip the global gradient norm; 0 = no clipping', step: 0.1 })),
    evalEvery: whole('evalEvery', 0, 1_000_000)
      .default(20)
      .meta(info({ label: 'eval every', group: 'Training', help: 'steps between evaluations on the held-out pairs; 0 = only at the end' })),
    checkpointEvery: whole('checkpointEvery', 0, 1_000_000)
      .default(50)
      .meta(info({ label: 'checkpoint every', group: 'Training', help: 'steps between checkpoints (safetensors); 0 = only at the end' })),
    seed: whole('seed', 0, 2 ** 31 - 1)
      .default(0)
      .meta(info({ label: 'seed', group: 'Training', help: 'data split and order, adapter init, dropout' })),
    threads: whole('threads', 0, 2)
      .default(0)
      .meta(
        info({
          label: 'threads',
          group: 'Training',
          help: 'LoRA steps on two threads (chosen and rejected responses side by side, gradients summed): 0 = two where the machine has two cores',
        }),
      ),
    gradientCheckpointing: z
      .enum(['auto', 'on', 'off'], { error: 'gradientCheckpointing must be auto, on or off' })
      .default('auto')
      .meta(
        info({
          label: 'activation checkpointing',
          group: 'Training',
          help: "keep only each block's input and recompute the block in the backward pass: far less memory for about a third more compute; auto = on when the activations would be large",
        }),
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    checkCustomLossChoice(c, ctx);
    if (c.warmupSteps > c.steps)
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: `warmupSteps (${c.warmupSteps}) is more than steps (${c.steps})` });
  });

export type LlmConfig = z.output<typeof LlmConfigSchema>;
export type LlmConfigInput = z.input<typeof LlmConfigSchema>;

/** Adapter target modules of a config: its own list, or the architecture's default. */
export function loraTargets(config: Pick<LlmConfig, 'loraTargets'>, modelType: keyof typeof LORA_TARGETS_DEFAULT): string[] {
  const own = config.loraTargets
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return own.length ? own : [...LORA_TARGETS_DEFAULT[modelType]];
}

/** Launcher presets: named partial configs. */
export const LLM_PRESETS: Record<string, { label: string; help: string; config: Partial<LlmConfigInput> }> = {
  'cpu-lora': {
    label: 'CPU LoRA (small model, minutes)',
    help: 'rank-8 adapters on q/v, lr 1e-4, batch 2, 100 steps, 512 tokens',
    config: { finetune: 'lora', loraRank: 8, loraAlpha: 16, lr: 1e-4, batchSize: 2, gradAccum: 1, steps: 100, maxLength: 512, beta: 0.1 },
  },
  paper: {
    label: "The paper's recipe (GPU)",
    help: 'full fine-tuning, β 0.1, lr 5e-7, 64 pairs per step (batch 8 × 8 accumulation), warm-up 10%, cosine',
    config: { finetune: 'full', beta: 0.1, lr: 5e-7, batchSize: 8, gradAccum: 8, steps: 300, warmupSteps: 30, schedule: 'cosine', maxLength: 512 },
  },
};
