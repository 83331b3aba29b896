import * as tf from '../tf';
import { logRatioMargin } from './dpo';
import { negLogSigmoid } from './stopGradient';
import type { LossDefinition } from './types';

/**
 * Conservative DPO: −(1−ε) log σ(z) − ε log σ(−z) with z = βh. Since softplus(z) = softplus(−z) + z this
 * equals softplus(−z) + ε·z, one softplus instead of two and exact for any z.
 */
export const cdpo: LossDefinition = {
  name: 'cdpo',
  label: 'cDPO (label smoothing)',
  description: '−(1−ε) log σ(β(rw − rl)) − ε log σ(−β(rw − rl)), ε = label smoothing',
  perPair(inputs, hyper) {
    const z = tf.mul(logRatioMargin(inputs), hyper.beta);
    const base = negLogSigmoid(z);
    return hyper.labelSmoothing === 0 ? base : tf.add(base, tf.mul(z, hyper.labelSmoothing));
  },
};
