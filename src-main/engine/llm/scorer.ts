import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../tf';
import { loadCausalLM, type CausalLM, type ForwardOptions } from './models';
import { modelTensorEntries, readTensor } from './safetensors';
import { readModelSpec } from './model-config';
import type { LabTokenizer } from './tokenizer';

/** What the lab writes beside a scorer it trained (dpo_lab_scorer.json): how its scores were learned. */
export interface ScorerMeta {
  kind: 'reward' | 'cost';
  /** training read each score at an appended EOS; evaluation should score the same way */
  appendEos: boolean;
  baseModel: string;
  accuracy: number;
  signAccuracy?: number;
  trainPairs: number;
  evalPairs: number;
}

export const SCORER_META_FILE = 'dpo_lab_scorer.json';

/** A scalar-head model: a causal LM's trunk and `score` (a [d, 1] projection of the final hidden state). */
export interface Scorer {
  dir: string;
  lm: CausalLM;
  /** [d, 1]: score.weight transposed (a Variable while it is trained) */
  head: tf.Tensor2D;
  /** score.bias when the folder has one (safe-rlhf's score_bias); HF's sequence classifiers have none */
  bias: tf.Tensor1D | null;
  /** config.json's architectures[0], e.g. LlamaForSequenceClassification */
  architecture: string;
  meta: ScorerMeta | null;
  dispose(): void;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/**
 * Loads a `*ForSequenceClassification` folder (num_labels 1): the base weights under `transformer.` / `model.`
 * and `score.weight` [1, hidden]. A folder without a score head (a plain causal LM) is refused with the reason.
 */
export async function loadScorer(dir: string): Promise<Scorer> {
  // the head is checked before any weight is loaded: a plain causal LM folder fails fast, naming what is missing
  const spec = readModelSpec(dir);
  const cfg = readJson(path.join(dir, 'config.json'));
  const archs = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).map(String) : [];
  const entries = modelTensorEntries(dir);
  const w = entries.get('score.weight');
  if (!w)
    throw new Error(
      `${dir}: no score head (tensor score.weight is missing${archs.length ? `; config.json architectures: ${archs.join(', ')}` : ''}); a scorer is a *ForSequenceClassification folder with num_labels 1`,
    );
  const d = spec.hiddenSize;
  if (w.shape.length !== 2 || w.shape[1] !== d) throw new Error(`${w.file}: tensor score.weight has shape [${w.shape}], expected [1,${d}]`);
  if (w.shape[0] !== 1)
    throw new Error(`${w.file}: tensor score.weight has shape [${w.shape}]: ${w.shape[0]} labels; a reward or cost model has one (num_labels 1)`);
  const b = entries.get('score.bias');
  if (b && b.shape.join(',') !== '1') throw new Error(`${b.file}: tensor score.bias has shape [${b.shape}], expected [1]`);
  const metaFile = path.join(dir, SCORER_META_FILE);
  const meta = fs.existsSync(metaFile) ? (readJson(metaFile) as unknown as ScorerMeta) : null;
  const lm = await loadCausalLM(dir, { lmHead: false });
  const head = tf.tensor2d(readTensor(w).data, [d, 1], 'float32');
  const bias = b ? tf.tensor1d(readTensor(b).data, 'float32') : null;
  return {
    dir,
    lm,
    head,
    bias,
    architecture: archs[0] ?? `${spec.modelType}ForSequenceClassification`,
    meta,
    dispose() {
      head.dispose();
      bias?.dispose();
      lm.dispose();
    },
  };
}

/** The parts of a scorer that compute a score (a loaded folder, or one being trained). */
export type ScoreHead = Pick<Scorer, 'lm' | 'head' | 'bias'>;

/**
 * Scores [rows] of a right-padded batch, each read at its last non-padding token (safe-rlhf's end_scores);
 * differentiable, so training uses it too.
 */
export function scoreBatch(s: ScoreHead, ids: Int32Array, mask: Float32Array, rows: number, length: number, opts: ForwardOptions = {}): tf.Tensor1D {
  const last = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let l = -1;
    for (let t = 0; t < length; t++) if (mask[r * length + t] > 0) l = t;
    if (l < 0) throw new Error(`row ${r} of the batch has no tokens`);
    last[r] = r * length + l;
  }
  return tf.tidy(() => {
    const h = s.lm.hidden(tf.tensor2d(ids, [rows, length], 'int32'), tf.tensor2d(mask, [rows, length], 'float32'), opts);
    const d = h.shape[2];
    const end = tf.gather(tf.reshape(h, [rows * length, d]), tf.tensor1d(last, 'int32')) as tf.Tensor2D;
    let score = tf.reshape(tf.matMul(end, s.head), [rows]) as tf.Tensor1D;
    if (s.bias) score = tf.add(score, s.bias);
    return score;
  });
}

/** Right-pads token lists into one batch. */
export function padBatch(seqs: readonly number[][], padId: number): { ids: Int32Array; mask: Float32Array; rows: number; length: number } {
  const rows = seqs.length;
  const length = Math.max(1, ...seqs.map((q) => q.length));
  const ids = new Int32Array(rows * length).fill(padId);
  const mask = new Float32Array(rows * length);
  seqs.forEach((q, r) => {
    for (let t = 0; t < q.length; t++) {
      ids[r * length + t] = q[t];
      mask[r * length + t] = 1;
    }
  });
  return { ids, mask, rows, length };
}

/** Scores of token lists, in their order; batched by length so little is padding. Every list must fit the context. */
export function scoreSequences(s: ScoreHead, seqs: readonly number[][], o: { padId: number; batchSize?: number; what?: string }): number[] {
  const ctx = s.lm.spec.maxPositions;
  const what = o.what ?? 'text';
  seqs.forEach((q, i) => {
    if (q.length === 0) throw new Error(`${what} ${i + 1} is empty (no tokens to score)`);
    if (q.length > ctx) throw new Error(`${what} ${i + 1} has ${q.length} tokens; the scorer's context is ${ctx}`);
  });
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
  const out = new Array<number>(seqs.length);
  const bs = Math.max(1, o.batchSize ?? 8);
  for (let i = 0; i < order.length; i += bs) {
    const part = order.slice(i, i + bs);
    const b = padBatch(
      part.map((k) => seqs[k]),
      o.padId,
    );
    const sc = scoreBatch(s, b.ids, b.mask, b.rows, b.length);
    const v = sc.dataSync();
    sc.dispose();
    part.forEach((k, j) => (out[k] = v[j]));
  }
  return out;
}

/**
 * Scores of texts as they stand: tokenized with no special tokens added, EOS appended only when asked (a scorer
 * the lab trained reads its scores at EOS: its meta says appendEos), the score read at the last token.
 */
export function scoreTexts(
  s: Scorer | ScoreHead,
  tokenizer: LabTokenizer,
  texts: readonly string[],
  o: { appendEos?: boolean; batchSize?: number } = {},
): number[] {
  const seqs = texts.map((t) => [...tokenizer.encode(t), ...(o.appendEos ? [tokenizer.eosTokenId] : [])]);
  return scoreSequences(s, seqs, { padId: tokenizer.padTokenId, batchSize: o.batchSize });
}
