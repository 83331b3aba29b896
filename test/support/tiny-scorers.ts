/**
 * Tiny random `*ForSequenceClassification` folders for tests: a tiny causal LM (tiny-models.ts) rewritten as Hugging
 * Face saves a sequence classifier: no lm_head, a `score.weight` [labels, hidden], architectures and num_labels
 * in config.json. Returns the stored weights (float64) for the reference implementation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src-main/engine/synthetic/rng';
import { writeTinyModel, writeTypedSafetensors, type TinyModelOptions, type WrittenTensor } from './tiny-models';

const CLASSIFIER: Record<string, string> = {
  gpt2: 'GPT2ForSequenceClassification',
  llama: 'LlamaForSequenceClassification',
  qwen2: 'Qwen2ForSequenceClassification',
};

export function writeTinyScorer(
  dir: string,
  o: TinyModelOptions & { labels?: number; scoreHead?: boolean },
): { weights: Record<string, WrittenTensor>; config: Record<string, unknown> } {
  const { weights, config } = writeTinyModel(dir, o);
  const d = (config.n_embd ?? config.hidden_size) as number;
  const rng = new Rng(o.seed ?? 1, 'tiny-scorer-head');
  const tensors: Record<string, { shape: number[]; values: Float64Array }> = {};
  for (const [name, t] of Object.entries(weights)) if (name !== 'lm_head.weight') tensors[name] = t;
  const labels = o.labels ?? 1;
  if (o.scoreHead !== false) tensors['score.weight'] = { shape: [labels, d], values: Float64Array.from({ length: labels * d }, () => rng.normal()) };
  const dtype = o.dtype ?? 'F32';
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.safetensors') || f === 'model.safetensors.index.json') fs.rmSync(path.join(dir, f));
  const written = writeTypedSafetensors(path.join(dir, 'model.safetensors'), tensors, dtype);
  const cfg = { ...config, architectures: [CLASSIFIER[o.arch]], num_labels: labels, pad_token_id: config.eos_token_id };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return { weights: written, config: cfg };
}
