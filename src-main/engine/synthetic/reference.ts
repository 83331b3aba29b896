/**
 * A reference trainer for ONE synthetic run, written to be read, not to be fast: tfjs autodiff (tf.grads)
 * through the policy and the registry's loss, and Adam written out. It shares no training code with the fused
 * trainer (experiment.ts, step.ts, model.ts, wasm-kernels.ts): only the task (dataset), the seeded streams and
 * the loss registry. Tests train the same config with both and compare every logged number.
 *
 * Procedure (synthetic.md § Procedure): seeded init → `refSteps` of DPO against the initial policy → πref =
 * the result → fresh Adam → `steps` of the run's loss against πref. Minibatches: `batchSize` pairs uniformly
 * with replacement from the run's own stream per phase (batchSize 0: the whole dataset in order).
 */
import * as tf from '../tf';
import { getLoss, lossOfConfig } from '../losses/registry';
import type { LossDefinition } from '../losses/types';
import type { SyntheticConfig } from '@shared/synthetic-config';
import type { SyntheticDataset } from './dataset';
import { Rng, STREAMS } from './rng';
import { generateDataset, policyStats, type PolicyStats } from './task';

/** One logged training step: the metrics of its minibatch at the parameters before the update. */
export interface ReferenceStep {
  loss: number;
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/margins': number;
  'rewards/accuracies': number;
  'logps/chosen': number;
  'logps/rejected': number;
  'balance/log10_prob_ratio': number;
  'balance/logp_grad_ratio': number;
  grad_norm: number;
  'balance/param_grad_norm_chosen': number;
  'balance/param_grad_norm_rejected': number;
}

export interface ReferenceResult {
  /** warm-up steps 1..refSteps: loss and grad_norm */
  warmup: { loss: number; grad_norm: number }[];
  /** training steps 1..steps */
  train: ReferenceStep[];
  /** policy evals at steps 0 (= πref), evalEvery, 2·evalEvery, … and at `steps` */
  evals: { step: number; stats: PolicyStats; probs: number[][] }[];
}

type Params = tf.Variable[];

/** PyTorch's default init, as synthetic.md fixes it: E ~ N(0, 1); W2, b2 ~ U(−1/√H, 1/√H); table = zeros. */
function initPolicy(c: SyntheticConfig): Params {
  const { K, hidden: H } = c;
  if (c.model === 'table') return [tf.variable(tf.zeros([K, K]))];
  const rng = new Rng(c.seed, STREAMS.init);
  const bound = 1 / Math.sqrt(H);
  const E = Float32Array.from({ length: K * H }, () => rng.normal());
  const W2 = Float32Array.from({ length: H * K }, () => rng.uniform(-bound, bound));
  const b2 = Float32Array.from({ length: K }, () => rng.uniform(-bound, bound));
  return [tf.variable(tf.tensor2d(E, [K, H])), tf.variable(tf.tensor2d(W2, [H, K])), tf.variable(tf.tensor2d(b2, [1, K]))];
}

/** log π(y|x) for every prompt x (rows) and response y (columns): one-hot(x) → E → tanh → W2, b2 → log-softmax. */
function logPolicy(c: SyntheticConfig, params: readonly tf.Tensor[]): tf.Tensor2D {
  if (c.model === 'table') return tf.logSoftmax(params[0]) as tf.Tensor2D;
  const [E, W2, b2] = params;
  return tf.logSoftmax(tf.add(tf.matMul(tf.tanh(E), W2), b2)) as tf.Tensor2D;
}

/** A [B, K·K] matrix with a 1 at each pair's cell x·K + y, so that cells(logπ) = onehot · vec(logπ). */
function oneHotCells(cells: number[], KK: number): tf.Tensor2D {
  const buf = new Float32Array(cells.length * KK);
  cells.forEach((cell, b) => (buf[b * KK + cell] = 1));
  return tf.tensor2d(buf, [cells.length, KK]);
}

/** log π of each pair's cell; a matmul with a one-hot matrix, so autodiff works on every backend. */
const pick = (logp: tf.Tensor2D, onehot: tf.Tensor2D) => tf.matMul(onehot, logp.reshape([-1, 1])).reshape([-1]);

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Trains one run; returns what it logged. The dataset defaults to the one the config's seed draws. */
export function trainReference(config: SyntheticConfig, dataset: SyntheticDataset = generateDataset(config)): ReferenceResult {
  const c = config;
  const K = c.K;
  const hyper = { beta: c.beta, clip: c.clip, labelSmoothing: c.labelSmoothing };
  const params = initPolicy(c);
  const result: ReferenceResult = { warmup: [], train: [], evals: [] };
  const probsOf = (logp: tf.Tensor2D) => tf.tidy(() => tf.exp(logp).arraySync() as number[][]);

  const runPhase = (steps: number, loss: LossDefinition, refLogp: tf.Tensor2D, stream: string, train: boolean) => {
    const rng = new Rng(c.seed, stream);
    const m: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
    const v: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
    const refProbs = probsOf(refLogp);
    const evalAt = (step: number) => {
      const probs = probsOf(tf.tidy(() => logPolicy(c, params)));
      result.evals.push({ step, stats: policyStats(probs, refProbs, c.alpha, dataset.mask), probs });
    };

    for (let t = 1; t <= steps; t++) {
      if (train && (t - 1) % c.evalEvery === 0) evalAt(t - 1);
      const batch = c.batchSize === 0 ? dataset.pairs : Array.from({ length: c.batchSize }, () => dataset.pairs[rng.int(dataset.pairs.length)]);
      const B = batch.length;
      tf.tidy(() => {
        const W = oneHotCells(
          batch.map(([x, w]) => x * K + w),
          K * K,
        );
        const L = oneHotCells(
          batch.map(([x, , l]) => x * K + l),
          K * K,
        );
        const refW = pick(refLogp, W);
        const refL = pick(refLogp, L);
        const perPair = (lw: tf.Tensor, ll: tf.Tensor) => loss.perPair({ lw, ll, refW, refL }, hyper);

        // the step's gradient: d(mean loss)/dθ
        const meanLoss = (...ps: tf.Tensor[]) => {
          const logp = logPolicy(c, ps);
          return tf.mean(perPair(pick(logp, W), pick(logp, L)));
        };
        const { value, grads } = tf.valueAndGrads(meanLoss)(params);
        const sq = (gs: tf.Tensor[]) => gs.reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0], 0);
        const gradNorm = Math.sqrt(sq(grads));

        if (train) {
          // per-pair gw = ∂L/∂lw, gl = ∂L/∂ll (L = Σ over pairs), then the chosen and rejected parts of the
          // parameter gradient, d(Σ gw·lw / B)/dθ and d(Σ gl·ll / B)/dθ with gw, gl held constant
          const logp = logPolicy(c, params);
          const lw = pick(logp, W);
          const ll = pick(logp, L);
          const [gw, gl] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(perPair(a, b)))([lw, ll]);
          const chosen = tf.grads((...ps: tf.Tensor[]) => tf.div(tf.sum(tf.mul(gw, pick(logPolicy(c, ps), W))), B))(params);
          const rejected = tf.grads((...ps: tf.Tensor[]) => tf.div(tf.sum(tf.mul(gl, pick(logPolicy(c, ps), L))), B))(params);
          result.train.push(stepMetrics(lw, ll, refW, refL, perPair(lw, ll), gw, gl, c.beta, gradNorm, Math.sqrt(sq(chosen)), Math.sqrt(sq(rejected))));
        } else {
          result.warmup.push({ loss: value.dataSync()[0], grad_norm: gradNorm });
        }

        // Adam, PyTorch's form: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ − lr·m̂ / (√v̂ + ε)
        const [b1, b2, eps] = [0.9, 0.999, 1e-8];
        params.forEach((p, k) => {
          const g = grads[k];
          const mk = tf.add(tf.mul(m[k], b1), tf.mul(g, 1 - b1));
          const vk = tf.add(tf.mul(v[k], b2), tf.mul(tf.square(g), 1 - b2));
          const mHat = tf.div(mk, 1 - b1 ** t);
          const vHat = tf.div(vk, 1 - b2 ** t);
          p.assign(tf.sub(p, tf.mul(c.lr, tf.div(mHat, tf.add(tf.sqrt(vHat), eps)))));
          m[k].dispose();
          v[k].dispose();
          m[k] = tf.keep(mk);
          v[k] = tf.keep(vk);
        });
      });
    }
    if (train) evalAt(steps);
    tf.dispose([...m, ...v]);
  };

  try {
    const initLogp = tf.tidy(() => logPolicy(c, params));
    runPhase(c.refSteps, getLoss('dpo'), initLogp, STREAMS.warmup, false);
    initLogp.dispose();
    const refLogp = tf.tidy(() => logPolicy(c, params));
    runPhase(c.steps, lossOfConfig(c), refLogp, STREAMS.train, true);
    refLogp.dispose();
  } finally {
    tf.dispose(params);
  }
  return result;
}

/** The standard metrics (losses.md), computed on the host from the per-pair values. */
function stepMetrics(
  lwT: tf.Tensor,
  llT: tf.Tensor,
  refWT: tf.Tensor,
  refLT: tf.Tensor,
  lossT: tf.Tensor,
  gwT: tf.Tensor,
  glT: tf.Tensor,
  beta: number,
  gradNorm: number,
  chosenNorm: number,
  rejectedNorm: number,
): ReferenceStep {
  const [lw, ll, refW, refL, loss, gw, gl] = [lwT, llT, refWT, refLT, lossT, gwT, glT].map((t) => Array.from(t.dataSync()));
  const chosen = lw.map((x, i) => beta * (x - refW[i]));
  const rejected = ll.map((x, i) => beta * (x - refL[i]));
  // balance: only pairs with both gradients non-zero (a ratio needs both); neutral values when there are none
  const defined = gw.map((g, i) => g !== 0 && gl[i] !== 0);
  const log10Rho = gw.map((g, i) => (Math.log(Math.abs(g)) - Math.log(Math.abs(gl[i])) + ll[i] - lw[i]) / Math.LN10).filter((_, i) => defined[i]);
  const ratio = gw.map((g, i) => Math.abs(g) / Math.abs(gl[i])).filter((_, i) => defined[i]);
  return {
    loss: mean(loss),
    'rewards/chosen': mean(chosen),
    'rewards/rejected': mean(rejected),
    'rewards/margins': mean(chosen) - mean(rejected),
    'rewards/accuracies': mean(chosen.map((x, i) => (x > rejected[i] ? 1 : 0))),
    'logps/chosen': mean(lw),
    'logps/rejected': mean(ll),
    'balance/log10_prob_ratio': log10Rho.length ? mean(log10Rho) : 0,
    'balance/logp_grad_ratio': ratio.length ? mean(ratio) : 1,
    grad_norm: gradNorm,
    'balance/param_grad_norm_chosen': chosenNorm,
    'balance/param_grad_norm_rejected': rejectedNorm,
  };
}
