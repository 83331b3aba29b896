import * as tf from '../tf';
import { logRatioMargin } from './dpo';
import type { LossDefinition } from './types';

/**
 * IPO: (h − 1/(2β))². For LLMs TRL feeds it length-normalised log-probs; that normalisation belongs to
 * whoever computes lw and ll, so the definition itself stays the plain formula.
 */
export const ipo: LossDefinition = {
  name: 'ipo',
  label: 'IPO',
  description: '(rw − rl − 1/(2β))²: identity preference optimisation',
  perPair(inputs, hyper) {
    return tf.square(tf.sub(logRatioMargin(inputs), 1 / (2 * hyper.beta)));
  },
};
