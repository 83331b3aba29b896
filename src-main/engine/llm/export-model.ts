import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../tf';
import type { LlmConfig } from '@shared/llm-config';
import type { ModelExportResult } from '@shared/contract';
import { loadCausalLM } from './models';
import { writeSafetensors } from './safetensors';
import { listCheckpoints, loadCheckpoint } from './checkpoints';

/** Files of the base model's folder that another tool needs beside the weights. */
const COPIED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt'];

/**
 * Writes a run's newest checkpoint as a Hugging Face folder: `merged` = the base model's files with every weight
 * (adapters folded in) in model.safetensors; `adapter` = PEFT's layout (adapter_config.json +
 * adapter_model.safetensors) to load on top of the unchanged base model.
 */
export async function exportRunModel(o: {
  config: LlmConfig;
  runDir: string;
  out: string;
  mode: 'merged' | 'adapter';
  overwrite: boolean;
}): Promise<ModelExportResult> {
  const latest = listCheckpoints(o.runDir)[0];
  if (!latest)
    throw new Error(`the run has no checkpoint in ${o.runDir} yet (checkpoints are written every checkpointEvery steps, at a cancel and at the end)`);
  const out = path.resolve(o.out);
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || (fs.readdirSync(out).length > 0 && !o.overwrite)))
    throw new Error(`${out} exists and is not an empty folder; choose a new folder`);
  if (!fs.existsSync(path.dirname(out))) throw new Error(`folder ${path.dirname(out)} does not exist`);
  const c = o.config;
  const targets = c.loraTargets
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const lm = await loadCausalLM(c.model, {
    seed: c.seed,
    train: true,
    lora:
      c.finetune === 'lora'
        ? { rank: c.loraRank, alpha: c.loraAlpha, dropout: c.loraDropout, ...(targets.length ? { targetModules: targets } : {}) }
        : undefined,
  });
  try {
    const ck = loadCheckpoint(latest.dir);
    const vars = lm.trainableVariables();
    if (ck.params.length !== vars.length) throw new Error(`${latest.dir}: ${ck.params.length} tensors, the model has ${vars.length} trainable ones`);
    ck.params.forEach((p, i) => vars[i].assign(tf.tensor(p.data, p.shape, 'float32')));
    fs.mkdirSync(out, { recursive: true });
    const files: string[] = [];
    if (o.mode === 'adapter') {
      writeSafetensors(path.join(out, 'adapter_model.safetensors'), lm.exportWeights('adapter'), { format: 'pt' });
      fs.writeFileSync(path.join(out, 'adapter_config.json'), JSON.stringify({ ...lm.adapterConfig(), base_model_name_or_path: c.model }, null, 2));
      files.push('adapter_model.safetensors', 'adapter_config.json');
    } else {
      writeSafetensors(path.join(out, 'model.safetensors'), lm.exportWeights('merged'), { format: 'pt' });
      files.push('model.safetensors');
      for (const f of COPIED) {
        const src = path.join(c.model, f);
        if (!fs.existsSync(src)) continue;
        if (f === 'config.json') {
          // the weights are float32 now, whatever the base stored
          const cfg = JSON.parse(fs.readFileSync(src, 'utf8')) as Record<string, unknown>;
          fs.writeFileSync(path.join(out, f), JSON.stringify({ ...cfg, torch_dtype: 'float32' }, null, 2));
        } else fs.copyFileSync(src, path.join(out, f));
        files.push(f);
      }
    }
    fs.writeFileSync(
      path.join(out, 'dpo_lab.json'),
      JSON.stringify({ exportedFrom: 'DPO Lab', mode: o.mode, step: latest.step, baseModel: c.model, loss: c.loss, config: c }, null, 2),
    );
    files.push('dpo_lab.json');
    return { out, mode: o.mode, step: latest.step, files };
  } finally {
    lm.dispose();
  }
}
