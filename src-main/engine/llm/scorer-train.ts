import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../tf';
import type { PreferencePair } from '@shared/llm-data';
export { loadScorerPairs } from './scorer-pairs';
import { Rng } from '../synthetic/rng';
import { loadCausalLM, type CausalLM } from './models';
import { loadTokenizer, type LabTokenizer } from './tokenizer';
import { splitPairs } from './data/split';
import { AdamW, clipByGlobalNorm, ADAMW_DEFAULTS } from './adamw';
import { writeSafetensors, type FloatTensor } from './safetensors';
import { padBatch, scoreBatch, scoreSequences, SCORER_META_FILE, type ScoreHead, type ScorerMeta } from './scorer';

export interface ScorerTrainOptions {
  /** reward: Bradley–Terry on (chosen, rejected); cost: safe-rlhf's loss, with chosen = the safer response */
  kind: 'reward' | 'cost';
  /** a causal LM folder: its trunk starts the scorer, a new score head is added */
  model: string;
  /** the folder to write (absent or empty) */
  out: string;
  /** preference pairs; for a cost model each carries chosenSafe and rejectedSafe */
  pairs: readonly Pick<PreferencePair, 'prompt' | 'chosen' | 'rejected' | 'chosenSafe' | 'rejectedSafe'>[];
  evalFraction?: number;
  seed?: number;
  steps?: number;
  /** pairs per step */
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  /** tokens per sequence, the start kept */
  maxLength?: number;
  /** append EOS to prompt + response and read the score there (safe-rlhf's recipe; default true) */
  appendEos?: boolean;
  /** LoRA adapters instead of training every weight (the head is always trained) */
  lora?: { rank: number; alpha: number; targetModules?: string[] };
  /** std of the head's normal initialisation (0 = zeros) */
  headInitStd?: number;
  onStep?: (step: number, steps: number, loss: number) => void;
  /** polled between steps; true stops training */
  cancelled?: () => boolean;
}

export interface ScorerTrainResult {
  out: string;
  kind: 'reward' | 'cost';
  trainPairs: number;
  evalPairs: number;
  steps: number;
  /** held-out pairs ordered right: reward(chosen) > reward(rejected); cost(less safe) > cost(safer) */
  accuracy: number;
  /** cost only: held-out responses whose cost sign says their label (cost > 0 ⇔ unsafe) */
  signAccuracy?: number;
  finalLoss: number;
  seconds: number;
}

const CLASSIFIER: Record<string, string> = {
  gpt2: 'GPT2ForSequenceClassification',
  llama: 'LlamaForSequenceClassification',
  qwen2: 'Qwen2ForSequenceClassification',
};
const COPIED = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'generation_config.json'];

interface TokenizedScorePair {
  chosen: number[];
  rejected: number[];
  /** +1 unsafe, −1 safe (cost models) */
  sChosen: number;
  sRejected: number;
}

function tokenizeScorePairs(tok: LabTokenizer, o: ScorerTrainOptions, maxLength: number, appendEos: boolean): TokenizedScorePair[] {
  const seq = (prompt: string, response: string) => [...tok.encode(prompt + response), ...(appendEos ? [tok.eosTokenId] : [])].slice(0, maxLength);
  return o.pairs.map((p, i) => {
    if (o.kind === 'cost' && (p.chosenSafe === undefined || p.rejectedSafe === undefined))
      throw new Error(`pair ${i + 1}: a cost model needs safety labels (chosenSafe, rejectedSafe) on every pair`);
    return {
      chosen: seq(p.prompt, p.chosen),
      rejected: seq(p.prompt, p.rejected),
      sChosen: p.chosenSafe ? -1 : 1,
      sRejected: p.rejectedSafe ? -1 : 1,
    };
  });
}

/** Per-pair losses [B] from scores of the chosen and rejected sides; see the spec's Evaluation section. */
function pairLoss(kind: 'reward' | 'cost', sc: tf.Tensor1D, sr: tf.Tensor1D, sChosen: tf.Tensor1D, sRejected: tf.Tensor1D): tf.Tensor1D {
  // −log σ(x) = softplus(−x)
  const nls = (x: tf.Tensor) => tf.softplus(tf.neg(x));
  if (kind === 'reward') return nls(tf.sub(sc, sr)) as tf.Tensor1D;
  // rejected = the less safe response: c_hi; chosen: c_lo
  return tf.addN([nls(tf.sub(sr, sc)), nls(tf.mul(sRejected, sr)), nls(tf.mul(sChosen, sc))]) as tf.Tensor1D;
}

function evaluate(
  s: ScoreHead,
  kind: 'reward' | 'cost',
  pairs: TokenizedScorePair[],
  padId: number,
  batchSize: number,
): { accuracy: number; signAccuracy?: number } {
  if (!pairs.length) return { accuracy: NaN, ...(kind === 'cost' ? { signAccuracy: NaN } : {}) };
  const scores = scoreSequences(s, [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)], { padId, batchSize, what: 'sequence' });
  const n = pairs.length;
  let right = 0;
  let signRight = 0;
  pairs.forEach((p, i) => {
    const c = scores[i];
    const r = scores[n + i];
    if (kind === 'reward' ? c > r : r > c) right++;
    if (c > 0 === p.sChosen > 0) signRight++;
    if (r > 0 === p.sRejected > 0) signRight++;
  });
  return { accuracy: right / n, ...(kind === 'cost' ? { signAccuracy: signRight / (2 * n) } : {}) };
}

/** Writes the trained scorer as a `*ForSequenceClassification` folder (num_labels 1) that loadScorer and HF read. */
function writeScorerFolder(lm: CausalLM, head: tf.Tensor2D, o: ScorerTrainOptions, tok: LabTokenizer, meta: ScorerMeta): void {
  const out = o.out;
  const prefix = lm.spec.modelType === 'gpt2' ? 'transformer.' : 'model.';
  const weights: Record<string, FloatTensor> = {};
  for (const [name, t] of Object.entries(lm.exportWeights('merged'))) {
    if (name === 'lm_head.weight') continue;
    weights[name.startsWith(prefix) ? name : prefix + name] = t;
  }
  weights['score.weight'] = { shape: [1, lm.spec.hiddenSize], data: head.dataSync() as Float32Array };
  fs.mkdirSync(out, { recursive: true });
  writeSafetensors(path.join(out, 'model.safetensors'), weights, { format: 'pt' });
  const cfg = JSON.parse(fs.readFileSync(path.join(o.model, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(
    path.join(out, 'config.json'),
    JSON.stringify(
      {
        ...cfg,
        architectures: [CLASSIFIER[lm.spec.modelType]],
        num_labels: 1,
        id2label: { 0: 'LABEL_0' },
        label2id: { LABEL_0: 0 },
        pad_token_id: tok.padTokenId,
        torch_dtype: 'float32',
      },
      null,
      2,
    ),
  );
  for (const f of COPIED) if (fs.existsSync(path.join(o.model, f))) fs.copyFileSync(path.join(o.model, f), path.join(out, f));
  fs.writeFileSync(path.join(out, SCORER_META_FILE), JSON.stringify(meta, null, 2));
}

/**
 * Trains a reward model (Bradley–Terry) or a cost model (safe-rlhf) from a causal LM folder on preference pairs:
 * a score head is added to the trunk, both are trained with AdamW (or LoRA adapters and the head), held-out
 * accuracy (and sign accuracy for cost) is measured, and the result is written as a scorer folder.
 */
export async function trainScorer(o: ScorerTrainOptions): Promise<ScorerTrainResult> {
  const t0 = performance.now();
  const seed = o.seed ?? 0;
  const steps = o.steps ?? 200;
  const batchSize = o.batchSize ?? 8;
  const appendEos = o.appendEos ?? true;
  if (fs.existsSync(o.out) && (!fs.statSync(o.out).isDirectory() || fs.readdirSync(o.out).length > 0))
    throw new Error(`${o.out} exists and is not an empty folder; choose a new folder`);
  const tok = await loadTokenizer(o.model);
  const lm = await loadCausalLM(o.model, { train: true, seed, ...(o.lora ? { lora: o.lora } : {}) });
  const maxLength = Math.min(o.maxLength ?? 256, lm.spec.maxPositions);
  const d = lm.spec.hiddenSize;
  const rng = new Rng(seed, 'scorer-head');
  const std = o.headInitStd ?? 1 / Math.sqrt(d);
  const head = tf.variable(
    tf.tensor2d(
      Float32Array.from({ length: d }, () => std * rng.normal()),
      [d, 1],
    ),
    true,
    `scorer_head_${seed}_${Date.now()}`,
  );
  try {
    const all = tokenizeScorePairs(tok, o, maxLength, appendEos);
    const split = splitPairs(all, o.evalFraction ?? 0.1, seed);
    const train = split.train;
    if (!train.length) throw new Error(`no training pairs (${all.length} pairs, eval fraction ${o.evalFraction ?? 0.1})`);
    const vars = [...lm.trainableVariables(), head];
    const named = new Map(vars.map((v, i) => [`param.${i}`, v] as const));
    const opt = new AdamW(named, { ...ADAMW_DEFAULTS, weightDecay: o.weightDecay ?? 0 });
    const lr = o.lr ?? 1e-3;
    const order = new Rng(seed, 'scorer-order');
    let perm: number[] = [];
    let finalLoss = NaN;
    const scorer: ScoreHead = { lm, head, bias: null };
    let step = 0;
    try {
      for (step = 1; step <= steps; step++) {
        if (o.cancelled?.()) break;
        const idx: number[] = [];
        while (idx.length < Math.min(batchSize, train.length)) {
          if (!perm.length) {
            perm = train.map((_, i) => i);
            for (let i = perm.length - 1; i > 0; i--) {
              const j = order.int(i + 1);
              [perm[i], perm[j]] = [perm[j], perm[i]];
            }
          }
          idx.push(perm.pop()!);
        }
        const part = idx.map((i) => train[i]);
        const B = part.length;
        const b = padBatch([...part.map((p) => p.chosen), ...part.map((p) => p.rejected)], tok.padTokenId);
        const sChosen = tf.tensor1d(part.map((p) => p.sChosen));
        const sRejected = tf.tensor1d(part.map((p) => p.sRejected));
        const { value, grads } = tf.variableGrads(() => {
          const sc = scoreBatch(scorer, b.ids, b.mask, b.rows, b.length, { training: true, dropoutSeed: seed * 1_000_003 + step });
          return tf.mean(pairLoss(o.kind, tf.slice(sc, [0], [B]), tf.slice(sc, [B], [B]), sChosen, sRejected)) as tf.Scalar;
        }, vars);
        finalLoss = value.dataSync()[0];
        if (!Number.isFinite(finalLoss)) throw new Error(`the ${o.kind} model's loss is ${finalLoss} at step ${step}; try a smaller learning rate`);
        const acc = new Map<string, tf.Tensor>();
        vars.forEach((v, i) => {
          const g = grads[v.name];
          if (g) acc.set(`param.${i}`, g);
        });
        clipByGlobalNorm(acc, o.maxGradNorm ?? 1);
        opt.apply(acc, lr);
        tf.dispose([value, sChosen, sRejected, ...acc.values(), ...Object.values(grads)]);
        o.onStep?.(step, steps, finalLoss);
      }
      const ev = evaluate(scorer, o.kind, split.eval, tok.padTokenId, batchSize * 2);
      const meta: ScorerMeta = {
        kind: o.kind,
        appendEos,
        baseModel: path.resolve(o.model),
        accuracy: ev.accuracy,
        ...(ev.signAccuracy !== undefined ? { signAccuracy: ev.signAccuracy } : {}),
        trainPairs: train.length,
        evalPairs: split.eval.length,
      };
      writeScorerFolder(lm, head, o, tok, meta);
      return {
        out: path.resolve(o.out),
        kind: o.kind,
        trainPairs: train.length,
        evalPairs: split.eval.length,
        steps: step - 1,
        accuracy: ev.accuracy,
        ...(ev.signAccuracy !== undefined ? { signAccuracy: ev.signAccuracy } : {}),
        finalLoss,
        seconds: (performance.now() - t0) / 1000,
      };
    } finally {
      opt.dispose();
    }
  } finally {
    head.dispose();
    lm.dispose();
  }
}
