import * as tf from '../tf';
import { negLogSigmoidScaled } from './stopGradient';
import type { LossDefinition, LossInputs } from './types';

/**
 * h = rw − rl, the log-ratio margin every loss here is built on. Grouped as (lw − ll) − (refW − refL) so
 * the λ of nbDPO can reuse lw − ll (see policyLogpGap) and the reference part carries no gradient.
 */
export function logRatioMargin(inputs: LossInputs, policyGap?: tf.Tensor): tf.Tensor {
  const gap = policyGap ?? tf.sub(inputs.lw, inputs.ll);
  return tf.sub(gap, tf.sub(inputs.refW, inputs.refL));
}

/** DPO, losses.md eq. 1: −log σ(β(rw − rl)). */
export const dpo: LossDefinition = {
  name: 'dpo',
  label: 'DPO',
  description: '−log σ(β(rw − rl)): the original DPO loss (eq. 1)',
  perPair(inputs, hyper) {
    return negLogSigmoidScaled(logRatioMargin(inputs), hyper.beta);
  },
};
