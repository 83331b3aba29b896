import * as tf from '../tf';
import type { LossDefinition, LossHyper, LossInputs } from './types';

/** Metrics standardMetrics() computes, in the order it returns them (TRL names, see losses.md). */
export const STANDARD_METRIC_NAMES = [
  'loss',
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
  'balance/log10_prob_ratio',
  'balance/logp_grad_ratio',
] as const;
export type StandardMetricName = (typeof STANDARD_METRIC_NAMES)[number];

/** Metrics only a trainer knows; it appends them after the standard ones. */
export const TRAINER_METRIC_NAMES = ['grad_norm', 'learning_rate'] as const;
/** Optional parameter-space balance norms, logged where cheap (synthetic lab). */
export const PARAM_BALANCE_METRIC_NAMES = ['balance/param_grad_norm_chosen', 'balance/param_grad_norm_rejected'] as const;

export interface LossAndLogpGrads {
  /** Per-pair loss, same shape as the inputs. */
  perPair: tf.Tensor;
  /** ∂(Σ perPair)/∂lw, which is the per-pair ∂L/∂lw because every loss is elementwise. */
  gw: tf.Tensor;
  /** ∂(Σ perPair)/∂ll. */
  gl: tf.Tensor;
}

/**
 * The per-pair loss and its gradients with respect to the two policy log-probs, by tfjs autodiff through
 * `def.perPair` itself, so the diagnostics see exactly the stop-gradients the trainer trains with.
 * A trainer can turn gw, gl into parameter gradients by differentiating Σ(gw·lw + gl·ll) with gw, gl held
 * constant (chain rule through lw(θ), ll(θ)).
 */
export function lossAndLogpGrads(def: LossDefinition, inputs: LossInputs, hyper: LossHyper): LossAndLogpGrads {
  return tf.tidy(() => {
    // valueAndGrads seeds a non-scalar output with ones, i.e. differentiates the sum over pairs
    const { value, grads } = tf.valueAndGrads((lw: tf.Tensor, ll: tf.Tensor) => def.perPair({ lw, ll, refW: inputs.refW, refL: inputs.refL }, hyper))([
      inputs.lw,
      inputs.ll,
    ]);
    return { perPair: value, gw: grads[0], gl: grads[1] };
  });
}

export interface BalanceTerms {
  /**
   * Per pair log10 ρ, ρ = |∂L/∂πθ(y_w)| / |∂L/∂πθ(y_l)| (losses.md eqs. 2, 30). 0 where `defined` is 0.
   */
  log10ProbRatio: tf.Tensor;
  /** Per pair |gw| / |gl|. 1 where `defined` is 0. */
  logpGradRatio: tf.Tensor;
  /**
   * 1 where both gw and gl are non-zero, else 0 (float32). A pair with a zero gradient on either side
   * (hinge past its margin, a sigmoid saturated to 0 in float32, bDPO with ll = 0) has no finite ratio;
   * it contributes nothing to the update, so it is left out of batch means rather than poisoning them.
   */
  defined: tf.Tensor;
}

/**
 * Per-pair balance diagnostics. log10 ρ = (ln|gw| − ln|gl| + ll − lw) / ln 10: kept in log space because
 * exp(lw) of a sequence log-prob underflows long before the ratio itself is extreme.
 */
export function balanceTerms(lw: tf.Tensor, ll: tf.Tensor, gw: tf.Tensor, gl: tf.Tensor): BalanceTerms {
  return tf.tidy(() => {
    const aw = tf.abs(gw);
    const al = tf.abs(gl);
    const definedMask = tf.greater(tf.minimum(aw, al), 0);
    // Undefined pairs compute NaN or ±∞ here; the where() below replaces them, and nothing is differentiated.
    const lnRho = tf.add(tf.sub(tf.log(aw), tf.log(al)), tf.sub(ll, lw));
    return {
      log10ProbRatio: tf.where(definedMask, tf.mul(lnRho, 1 / Math.LN10), tf.zerosLike(lnRho)),
      logpGradRatio: tf.where(definedMask, tf.div(aw, al), tf.onesLike(aw)),
      defined: tf.cast(definedMask, 'float32'),
    };
  });
}

export interface StandardMetricsInputs extends LossInputs {
  /** Per-pair loss (lossAndLogpGrads().perPair). */
  perPair: tf.Tensor;
  beta: number;
  gw: tf.Tensor;
  gl: tf.Tensor;
  /** Axis holding the pairs; default −1 (the last), so [R, B] inputs give [R] metrics. */
  axis?: number;
}

/**
 * Mean over the pairs of `x` restricted to `mask`; `empty` where no pair is in the mask, so a batch whose
 * pairs all have zero gradient reports the neutral value (balanced: log10 ρ = 0, ratio 1) instead of NaN.
 */
function maskedMean(x: tf.Tensor, mask: tf.Tensor, axis: number, empty: number): tf.Tensor {
  const count = tf.sum(mask, axis);
  const mean = tf.div(tf.sum(tf.mul(x, mask), axis), tf.maximum(count, 1));
  return tf.where(tf.greater(count, 0), mean, tf.fill(count.shape, empty));
}

/**
 * The standard per-step metrics, each reduced over the pair axis (shape = the remaining dims: scalar for
 * [B] inputs, [R] for [R, B]). Balance means cover only pairs with both gradients non-zero
 * (see BalanceTerms.defined); the others keep plain means over all pairs.
 */
export function standardMetrics(p: StandardMetricsInputs): Record<StandardMetricName, tf.Tensor> {
  const axis = p.axis ?? -1;
  return tf.tidy(() => {
    const chosen = tf.mul(tf.sub(p.lw, p.refW), p.beta);
    const rejected = tf.mul(tf.sub(p.ll, p.refL), p.beta);
    const chosenMean = tf.mean(chosen, axis);
    const rejectedMean = tf.mean(rejected, axis);
    const bal = balanceTerms(p.lw, p.ll, p.gw, p.gl);
    return {
      loss: tf.mean(p.perPair, axis),
      'rewards/chosen': chosenMean,
      'rewards/rejected': rejectedMean,
      'rewards/margins': tf.sub(chosenMean, rejectedMean),
      'rewards/accuracies': tf.mean(tf.cast(tf.greater(chosen, rejected), 'float32'), axis),
      'logps/chosen': tf.mean(p.lw, axis),
      'logps/rejected': tf.mean(p.ll, axis),
      'balance/log10_prob_ratio': maskedMean(bal.log10ProbRatio, bal.defined, axis, 0),
      'balance/logp_grad_ratio': maskedMean(bal.logpGradRatio, bal.defined, axis, 1),
    };
  });
}

/**
 * Stacks a standardMetrics() record in STANDARD_METRIC_NAMES order into one [M, ...] tensor, so a trainer
 * reads all metrics back from the device in a single transfer.
 */
export function stackStandardMetrics(metrics: Record<StandardMetricName, tf.Tensor>): tf.Tensor {
  return tf.stack(STANDARD_METRIC_NAMES.map((n) => metrics[n]));
}

export interface FiniteCheckContext {
  /** Loss name, for the message. */
  loss: string;
  step: number;
}

/** Thrown by assertFiniteMetrics; carries what a trainer needs to report the failed run. */
export class NonFiniteMetricError extends Error {
  constructor(
    message: string,
    readonly loss: string,
    readonly step: number,
    /** One entry per offending value: "metric=NaN", or "metric[run i]=NaN" for per-run arrays */
    readonly offending: readonly string[],
  ) {
    super(message);
    this.name = 'NonFiniteMetricError';
  }
}

/**
 * Throws NonFiniteMetricError if any read-back metric is NaN or ±∞. Array values are per run (index = run
 * within a batched job). The losses cannot check themselves without a device read per step, so trainers
 * call this on the values they read back anyway; for bDPO it is the guard for lw + ll = 0 (losses.md).
 */
export function assertFiniteMetrics(values: Readonly<Record<string, number | ArrayLike<number>>>, context: FiniteCheckContext): void {
  const offending: string[] = [];
  for (const [name, v] of Object.entries(values)) {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) offending.push(`${name}=${v}`);
      continue;
    }
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) offending.push(`${name}[run ${i}]=${v[i]}`);
  }
  if (offending.length === 0) return;
  const shown = offending.slice(0, 8).join(', ') + (offending.length > 8 ? `, … (${offending.length} in all)` : '');
  const hint =
    context.loss === 'bdpo'
      ? ' bdpo divides by lw + ll (λw = ll / (lw + ll)), so this happens when a pair has lw + ll = 0 or a non-finite log-prob.'
      : ' The log-probs or the loss overflowed; try a smaller learning rate or β.';
  throw new NonFiniteMetricError(
    `loss ${context.loss} produced non-finite metrics at step ${context.step}: ${shown}.${hint}`,
    context.loss,
    context.step,
    offending,
  );
}
