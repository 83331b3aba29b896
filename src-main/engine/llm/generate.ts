import * as tf from '../tf';
import { Rng } from '../synthetic/rng';
import type { CausalLM } from './models';
import type { LabTokenizer } from './tokenizer';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy (argmax); above 0 the logits are divided by it before sampling */
  temperature: number;
  /** nucleus sampling: sample among the most likely tokens whose probabilities sum to at least topP (1 = all) */
  topP: number;
  /** with the prompt's index, seeds its own stream: a prompt's sample does not depend on the batch it is in */
  seed: number;
  /** prompts decoded side by side (left-padded) */
  batchSize: number;
}

export interface GenerateResult {
  /** per prompt: the new tokens, EOS stripped */
  sequences: number[][];
  texts: string[];
  /** why each prompt stopped: EOS, the token budget, or the model's context */
  finish: ('eos' | 'length' | 'context')[];
  /** new tokens (not padding) per second of decoding, prefill included */
  tokensPerSecond: number;
  newTokens: number;
  seconds: number;
}

/** The next token from a row of logits: argmax at temperature 0, else temperature + top-p sampling from rng. */
export function pickToken(logits: Float32Array, temperature: number, topP: number, rng: Rng | null): number {
  const V = logits.length;
  if (temperature <= 0 || !rng) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > max) max = logits[i];
  const p = new Float64Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) z += p[i] = Math.exp((logits[i] - max) / temperature);
  // the smallest set of most likely tokens whose mass reaches topP (ties broken by id, so the result is stable)
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < V && (kept === 0 || mass / z < topP)) mass += p[order[kept++]];
  let u = rng.uniform(0, mass);
  for (let k = 0; k < kept; k++) {
    u -= p[order[k]];
    if (u <= 0) return order[k];
  }
  return order[kept - 1];
}

/** Checks the prompts before any work: none empty, each leaving room for one new token in the model's context. */
function checkPrompts(model: CausalLM, prompts: number[][]): void {
  const ctx = model.spec.maxPositions;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i + 1} is empty (no tokens): nothing to continue from`);
    if (p.length >= ctx) throw new Error(`prompt ${i + 1} has ${p.length} tokens; the model's context is ${ctx}, so no token can follow it`);
  });
}

/**
 * Decodes continuations of tokenized prompts with a KV cache: each batch is left-padded, prefilled in one pass,
 * then extended one token per step until every row has emitted EOS, used maxNewTokens, or reached the context.
 * Positions count real tokens only, so a prompt's continuation is the same in any batch.
 */
export function generate(model: CausalLM, tokenizer: LabTokenizer, prompts: number[][], opts: GenerateOptions): GenerateResult {
  checkPrompts(model, prompts);
  if (!(opts.batchSize >= 1)) throw new Error(`batchSize must be at least 1, got ${opts.batchSize}`);
  if (!(opts.topP > 0 && opts.topP <= 1)) throw new Error(`topP must be in (0, 1], got ${opts.topP}`);
  if (!(opts.temperature >= 0)) throw new Error(`temperature must be 0 (greedy) or more, got ${opts.temperature}`);
  const ctx = model.spec.maxPositions;
  const eos = tokenizer.eosTokenId;
  const pad = tokenizer.padTokenId;
  const sequences: number[][] = prompts.map(() => []);
  const finish: GenerateResult['finish'] = prompts.map(() => 'length');
  const t0 = performance.now();
  let newTokens = 0;
  for (let start = 0; start < prompts.length; start += opts.batchSize) {
    const idx = prompts.slice(start, start + opts.batchSize).map((_, k) => start + k);
    const B = idx.length;
    const rngs = idx.map((i) => (opts.temperature > 0 ? new Rng(opts.seed, `generate-${i}`) : null));
    const lens = idx.map((i) => prompts[i].length);
    const Lp = Math.max(...lens);
    // no row can go past the context: the budget is what the longest allows at most, each row checked below
    const budget = Math.max(0, Math.min(opts.maxNewTokens, ctx - Math.min(...lens)));
    const ids = new Int32Array(B * Lp).fill(pad);
    const mask = new Float32Array(B * Lp);
    idx.forEach((i, r) => {
      const p = prompts[i];
      for (let j = 0; j < p.length; j++) {
        ids[r * Lp + Lp - p.length + j] = p[j];
        mask[r * Lp + Lp - p.length + j] = 1;
      }
    });
    const cache = model.startCache(B, Lp + budget);
    const done = new Array<boolean>(B).fill(budget === 0);
    try {
      let logits = tf.tidy(() => {
        const out = model.forwardCached(tf.tensor2d(ids, [B, Lp], 'int32'), cache, tf.tensor2d(mask, [B, Lp], 'float32'));
        return tf.squeeze(tf.slice(out, [0, Lp - 1, 0], [B, 1, -1]), [1]) as tf.Tensor2D;
      });
      for (let step = 0; step < budget && done.some((d) => !d); step++) {
        const V = logits.shape[1];
        const values = logits.dataSync() as Float32Array;
        logits.dispose();
        const next = new Int32Array(B).fill(pad);
        const nextMask = new Float32Array(B);
        for (let r = 0; r < B; r++) {
          if (done[r]) continue;
          const tok = pickToken(values.subarray(r * V, (r + 1) * V), opts.temperature, opts.topP, rngs[r]);
          const i = idx[r];
          if (tok === eos) {
            done[r] = true;
            finish[i] = 'eos';
            continue;
          }
          sequences[i].push(tok);
          newTokens++;
          if (sequences[i].length >= opts.maxNewTokens) done[r] = true;
          else if (prompts[i].length + sequences[i].length >= ctx) {
            done[r] = true;
            finish[i] = 'context';
          } else {
            next[r] = tok;
            nextMask[r] = 1;
          }
        }
        if (done.every((d) => d)) break;
        logits = tf.tidy(() => {
          const out = model.forwardCached(tf.tensor2d(next, [B, 1], 'int32'), cache, tf.tensor2d(nextMask, [B, 1], 'float32'));
          return tf.reshape(out, [B, out.shape[2]]) as tf.Tensor2D;
        });
      }
      if (!logits.isDisposed) logits.dispose();
    } finally {
      cache.dispose();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    sequences,
    texts: sequences.map((s) => tokenizer.decode(s, { skipSpecialTokens: true })),
    finish,
    tokensPerSecond: seconds > 0 ? newTokens / seconds : 0,
    newTokens,
    seconds,
  };
}
