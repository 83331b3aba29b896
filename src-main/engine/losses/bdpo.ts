import * as tf from '../tf';
import { negLogSigmoidScaled, stopGradient } from './stopGradient';
import type { LossDefinition } from './types';

/**
 * Balanced-DPO, eqs. 28–29: −log σ(β·λw·rw − β(1−λw)·rl) with λw = sg(ll / (lw + ll)).
 * Computed as −log σ(β[λw(rw + rl) − rl]), the same value and gradient in fewer ops.
 * lw + ll = 0 makes λw non-finite and the loss NaN; checking that here would need a device read every
 * step, so callers guard instead: inspect.ts rejects such inputs, trainers run assertFiniteMetrics.
 */
export const bdpo: LossDefinition = {
  name: 'bdpo',
  label: 'Balanced-DPO',
  description: '−log σ(β·λw·rw − β(1−λw)·rl) with λw = ll / (lw + ll), detached (eqs. 28–29)',
  perPair(inputs, hyper) {
    const lamW = stopGradient(tf.div(inputs.ll, tf.add(inputs.lw, inputs.ll)));
    const rw = tf.sub(inputs.lw, inputs.refW);
    const rl = tf.sub(inputs.ll, inputs.refL);
    const z = tf.sub(tf.mul(lamW, tf.add(rw, rl)), rl);
    return negLogSigmoidScaled(z, hyper.beta);
  },
};
