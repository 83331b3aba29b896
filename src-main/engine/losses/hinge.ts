import * as tf from '../tf';
import { logRatioMargin } from './dpo';
import type { LossDefinition } from './types';

/** SLiC hinge: max(0, 1 − β(rw − rl)). Pairs past the margin get exactly zero gradient. */
export const hinge: LossDefinition = {
  name: 'hinge',
  label: 'Hinge (SLiC)',
  description: 'max(0, 1 − β(rw − rl)): the SLiC hinge loss',
  perPair(inputs, hyper) {
    return tf.relu(tf.sub(1, tf.mul(logRatioMargin(inputs), hyper.beta)));
  },
};
