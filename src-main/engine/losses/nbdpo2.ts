import * as tf from '../tf';
import { logRatioMargin } from './dpo';
import { lambdaMinusOne } from './nbdpo';
import { negLogSigmoidScaled } from './stopGradient';
import type { LossDefinition, LossHyper, LossInputs } from './types';

/** eq. 27, −log σ(βλ·rw − β·rl), computed as −log σ(β[h + (λ−1)·rw]) to reuse the shared margin. */
function nbdpo2PerPair(inputs: LossInputs, hyper: LossHyper, symmetric: boolean): tf.Tensor {
  const gap = tf.sub(inputs.lw, inputs.ll);
  const lamM1 = lambdaMinusOne(gap, hyper, symmetric);
  const rw = tf.sub(inputs.lw, inputs.refW);
  const z = tf.add(logRatioMargin(inputs, gap), tf.mul(lamM1, rw));
  return negLogSigmoidScaled(z, hyper.beta);
}

export const nbdpo2Asymm: LossDefinition = {
  name: 'nbdpo2-asymm',
  label: 'nbDPO v2 (asymmetric)',
  description: '−log σ(βλ·rw − β·rl) with λ = 1 + clip(lw − ll, 0, clip) (eq. 27)',
  perPair: (inputs, hyper) => nbdpo2PerPair(inputs, hyper, false),
};

export const nbdpo2Symm: LossDefinition = {
  name: 'nbdpo2-symm',
  label: 'nbDPO v2 (symmetric)',
  description: '−log σ(βλ·rw − β·rl) with λ ∈ [1/(1+clip), 1+clip] (eq. 27, symmetric clip)',
  perPair: (inputs, hyper) => nbdpo2PerPair(inputs, hyper, true),
};
