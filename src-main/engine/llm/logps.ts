import * as tf from '../tf';
import type { SequenceBatch } from './sequence-batch';

/** What sequence log-probs need from a model: logits for a padded batch. */
export interface LogitsModel {
  forward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: { training?: boolean; adapters?: boolean; dropoutSeed?: number }): tf.Tensor3D;
}

/**
 * Σ over response positions of log softmax(logits)[next token], per row: [rows]. As TRL computes it: the
 * log-softmax over the whole vocabulary at each position, the next token gathered, prompt and padding masked.
 * The gather is written as logit(next) − logsumexp(logits) so no [N, V] log-softmax or one-hot tensor is kept
 * for the backward pass beyond the logits themselves.
 */
export function sequenceLogps(model: LogitsModel, b: SequenceBatch, opts: { training?: boolean; adapters?: boolean; dropoutSeed?: number } = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const ids = tf.tensor2d(b.ids, [b.rows, b.length], 'int32');
    const mask = tf.tensor2d(b.attention, [b.rows, b.length], 'float32');
    const logits = model.forward(ids, mask, opts);
    const vocab = logits.shape[2];
    const n = b.rows * b.length;
    const flat = tf.reshape(logits, [n, vocab]);
    const lse = tf.logSumExp(flat, 1);
    const rowsIdx = new Int32Array(n);
    for (let i = 0; i < n; i++) rowsIdx[i] = i * vocab + b.next[i];
    const picked = tf.gather(tf.reshape(flat, [n * vocab]), tf.tensor1d(rowsIdx, 'int32'));
    const tokenLogp = tf.mul(tf.sub(picked, lse), tf.tensor1d(b.target, 'float32'));
    return tf.sum(tf.reshape(tokenLogp, [b.rows, b.length]), 1) as tf.Tensor1D;
  });
}

/** Response tokens counted per row (the `tokens` of `lab logps`). */
export function responseTokenCounts(b: SequenceBatch): number[] {
  const out: number[] = [];
  for (let r = 0; r < b.rows; r++) {
    let c = 0;
    for (let t = 0; t < b.length; t++) c += b.target[r * b.length + t];
    out.push(c);
  }
  return out;
}
