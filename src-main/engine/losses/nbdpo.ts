import * as tf from '../tf';
import { logRatioMargin } from './dpo';
import { negLogSigmoidScaled, stopGradient } from './stopGradient';
import type { LossDefinition, LossHyper, LossInputs } from './types';

/** Lower end of clip(·) in eq. 26: 0 for the asymmetric variant, 1/(1+Δmax) − 1 for the symmetric one. */
export function lambdaClipMin(clip: number, symmetric: boolean): number {
  return symmetric ? 1 / (1 + clip) - 1 : 0;
}

/**
 * λ − 1 = clip(sg(lw − ll), Δmin, Δmax) (eq. 26), detached. Returned minus one because both nbDPO forms
 * only ever need λ − 1, which saves an add per step. `gap` is lw − ll, shared with the margin.
 */
export function lambdaMinusOne(gap: tf.Tensor, hyper: LossHyper, symmetric: boolean): tf.Tensor {
  return tf.clipByValue(stopGradient(gap), lambdaClipMin(hyper.clip, symmetric), hyper.clip);
}

/**
 * eq. 25, −log σ(βλ·rw − β·rl − β(λ−1)·sg(rw)), rearranged as −log σ(β[h + (λ−1)(lw − sg(lw))]).
 * The two agree in value and gradient (refW is constant, so rw − sg(rw) = lw − sg(lw)), but this form
 * makes the added term exactly 0 in floating point, so the value equals DPO's bit for bit while the
 * gradient on lw is scaled by λ.
 */
function nbdpoPerPair(inputs: LossInputs, hyper: LossHyper, symmetric: boolean): tf.Tensor {
  const gap = tf.sub(inputs.lw, inputs.ll);
  const lamM1 = lambdaMinusOne(gap, hyper, symmetric);
  const zeroWithGrad = tf.sub(inputs.lw, stopGradient(inputs.lw));
  const z = tf.add(logRatioMargin(inputs, gap), tf.mul(lamM1, zeroWithGrad));
  return negLogSigmoidScaled(z, hyper.beta);
}

export const nbdpoAsymm: LossDefinition = {
  name: 'nbdpo-asymm',
  label: 'nbDPO (asymmetric)',
  description: 'DPO value with the chosen gradient scaled by λ = 1 + clip(lw − ll, 0, clip) (eq. 25)',
  perPair: (inputs, hyper) => nbdpoPerPair(inputs, hyper, false),
};

export const nbdpoSymm: LossDefinition = {
  name: 'nbdpo-symm',
  label: 'nbDPO (symmetric)',
  description: 'DPO value with the chosen gradient scaled by λ ∈ [1/(1+clip), 1+clip] (eq. 25, symmetric clip)',
  perPair: (inputs, hyper) => nbdpoPerPair(inputs, hyper, true),
};
