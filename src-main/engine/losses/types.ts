import type * as tf from '../tf';
import type { LossChoice } from '@shared/losses';

/**
 * Inputs of a preference loss. All four tensors share one shape (e.g. [B] for one run, [R, B] for R runs
 * trained side by side); losses are elementwise over that shape, so one definition serves both.
 */
export interface LossInputs {
  /** log πθ(y_w|x) */
  lw: tf.Tensor;
  /** log πθ(y_l|x) */
  ll: tf.Tensor;
  /** log πref(y_w|x), already a constant (no gradient flows into it) */
  refW: tf.Tensor;
  /** log πref(y_l|x) */
  refL: tf.Tensor;
}

export interface LossHyper {
  /** β, the KL strength */
  beta: number;
  /** Δmax of the nbDPO clip (losses.md eq. 26) */
  clip: number;
  /** ε of conservative DPO (cdpo); ignored by other losses */
  labelSmoothing: number;
}

export interface LossDefinition {
  /** a built-in's name, or 'custom' for a formula loss */
  name: LossChoice;
  /** Short human label, e.g. "Balanced-DPO"; a custom loss's own name */
  label: string;
  /** custom losses: the formula (it tells two custom losses apart) */
  formula?: string;
  /** One line for tooltips: the formula in words */
  description: string;
  /** Per-pair loss, same shape as the inputs, with the spec's stop-gradients applied. */
  perPair(inputs: LossInputs, hyper: LossHyper): tf.Tensor;
}

export const DEFAULT_LOSS_HYPER: LossHyper = { beta: 1, clip: 0.5, labelSmoothing: 0 };
