/**
 * Supervised fine-tuning: cross-entropy on the response tokens of (prompt, response) examples, the prompt masked,
 * every weight trained with AdamW under a warm-up + decay schedule. The trained model is written as a Hugging Face
 * folder (the base folder's config and tokenizer files, model.safetensors in float32), ready for DPO.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../tf';
import { Rng } from '../synthetic/rng';
import { loadCausalLM } from './models';
import { loadTokenizer, type LabTokenizer } from './tokenizer';
import { sequenceLogps } from './logps';
import { packSequences, type TokenizedSequence } from './sequence-batch';
import { tokenizeSequence } from './pair-tokens';
import { AdamW, ADAMW_DEFAULTS, clipByGlobalNorm } from './adamw';
import { learningRateAt } from './schedule';
import { writeSafetensors } from './safetensors';

export interface SftExample {
  /** the model's input text, as it will be prompted */
  prompt: string;
  response: string;
}

export interface SftOptions {
  /** the starting model folder */
  model: string;
  /** where the trained model folder goes (created; files in it are replaced) */
  out: string;
  examples: readonly SftExample[];
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps?: number;
  schedule?: 'linear' | 'cosine' | 'constant';
  weightDecay?: number;
  maxGradNorm?: number;
  maxLength: number;
  seed: number;
  /** after each step: 1-based step and the mean token cross-entropy of its batch */
  onStep?: (step: number, loss: number) => void;
}

export interface SftResult {
  /** mean token cross-entropy of each step's batch */
  losses: number[];
  seconds: number;
  tokensPerSecond: number;
  /** examples dropped because the prompt alone fills maxLength */
  dropped: number;
}

/** Files of the base folder copied beside the trained weights. */
const COPIED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/**
 * Tokenized as the preference pairs are, by the same function (pair-tokens.ts tokenizeSequence): the prompt's
 * tokens, then the response's (the seam backed up one token where BPE merges across it), then EOS, cut to
 * maxLength keeping the start; null when the example cannot be trained on (the prompt alone fills maxLength).
 */
export function tokenizeSftExample(tok: LabTokenizer, ex: SftExample, maxLength: number): TokenizedSequence | null {
  const s = tokenizeSequence(tok, ex.prompt, ex.response, maxLength);
  return typeof s === 'string' ? null : s;
}

export async function trainSft(o: SftOptions): Promise<SftResult> {
  if (o.examples.length === 0) throw new Error('SFT: no examples');
  if (!(o.steps >= 1 && o.batchSize >= 1)) throw new Error(`SFT: steps (${o.steps}) and batchSize (${o.batchSize}) must be at least 1`);
  const t0 = Date.now();
  const tok = await loadTokenizer(o.model);
  const seqs = o.examples.map((ex) => tokenizeSftExample(tok, ex, o.maxLength)).filter((s): s is TokenizedSequence => s !== null);
  if (seqs.length === 0) throw new Error(`SFT: every example's prompt fills maxLength ${o.maxLength}`);
  const lm = await loadCausalLM(o.model, { train: true, seed: o.seed });
  try {
    const vars = lm.trainableVariables();
    const opt = new AdamW(new Map(vars.map((v, i) => [`param.${i}`, v] as const)), { ...ADAMW_DEFAULTS, weightDecay: o.weightDecay ?? 0 });
    const rng = new Rng(o.seed, 'sft-order');
    let order: number[] = [];
    const nextIndex = () => {
      if (order.length === 0) {
        order = Array.from({ length: seqs.length }, (_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      return order.pop()!;
    };
    const losses: number[] = [];
    let tokens = 0;
    const sched = { lr: o.lr, steps: o.steps, warmupSteps: o.warmupSteps ?? Math.ceil(o.steps / 20), schedule: o.schedule ?? 'cosine' } as const;
    for (let step = 1; step <= o.steps; step++) {
      const batch = packSequences(
        Array.from({ length: o.batchSize }, () => seqs[nextIndex()]),
        tok.padTokenId,
      );
      const count = batch.target.reduce((a, b) => a + b, 0);
      tokens += batch.tokens;
      const { value, grads } = tf.variableGrads(() => tf.div(tf.neg(tf.sum(sequenceLogps(lm, batch, { training: true }))), count) as tf.Scalar, vars);
      const loss = value.dataSync()[0];
      value.dispose();
      const named = new Map<string, tf.Tensor>();
      vars.forEach((v, i) => grads[v.name] && named.set(`param.${i}`, grads[v.name]));
      clipByGlobalNorm(named, o.maxGradNorm ?? 1);
      opt.apply(named, learningRateAt(step, sched));
      tf.dispose([...named.values()]);
      if (!Number.isFinite(loss)) throw new Error(`SFT: the loss is ${loss} at step ${step}; lower the learning rate`);
      losses.push(loss);
      o.onStep?.(step, loss);
    }
    opt.dispose();
    fs.mkdirSync(o.out, { recursive: true });
    writeSafetensors(path.join(o.out, 'model.safetensors'), lm.exportWeights('merged'), { format: 'pt' });
    for (const f of COPIED) {
      const src = path.join(o.model, f);
      if (fs.existsSync(src) && path.resolve(src) !== path.resolve(o.out, f)) fs.copyFileSync(src, path.join(o.out, f));
    }
    const seconds = (Date.now() - t0) / 1000;
    return { losses, seconds, tokensPerSecond: tokens / seconds, dropped: o.examples.length - seqs.length };
  } finally {
    lm.dispose();
  }
}
