import * as tf from '../tf';
import type { SequenceBatch } from './sequence-batch';

/** What sequence log-probs need from a model: logits for a padded batch. */
export interface LogitsModel {
  forward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: { training?: boolean; adapters?: boolean; dropoutSeed?: number }): tf.Tensor3D;
}

/**
 * Σ over response positions of log softmax(logits)[next token], per row: [rows]. As TRL computes it: the
 * log-softmax over the whole vocabulary at each position, the next token gathered, prompt and padding masked.
 */
export function sequenceLogps(model: LogitsModel, b: SequenceBatch, opts: { training?: boolean; adapters?: boolean; dropoutSeed?: number } = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const ids = tf.tensor2d(b.ids, [b.rows, b.length], 'int32');
    const mask = tf.tensor2d(b.attention, [b.rows, b.length], 'float32');
    const logits = model.forward(ids, mask, opts);
    const vocab = logits.shape[2];
    const n = b.rows * b.length;
    const tokenLogp = tf.mul(nextTokenLogp(tf.reshape(logits, [n, vocab]), b.next), tf.tensor1d(b.target, 'float32'));
    return tf.sum(tf.reshape(tokenLogp, [b.rows, b.length]), 1) as tf.Tensor1D;
  });
}

/**
 * log softmax(x)[n, next[n]] for logits x [N, V], as one op with its own gradient dy·(onehot(next) − softmax(x)).
 * Autodiff through gather + logSumExp computes the same thing through a max, an equality mask and a scatter of
 * N·V values, which was most of a training step's time on a 50k vocabulary.
 */
function nextTokenLogp(x: tf.Tensor2D, next: Int32Array): tf.Tensor1D {
  const [n, vocab] = x.shape;
  const flatIdx = new Int32Array(n);
  for (let i = 0; i < n; i++) flatIdx[i] = i * vocab + next[i];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logits = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    // log-sum-exp written out so the exponentials are kept for the backward pass: softmax = e / Σe there, one
    // division instead of a second exp over [N, V]
    const max = tf.max(logits, 1, true);
    const e = tf.exp(tf.sub(logits, max));
    const sum = tf.sum(e, 1, true);
    const lse = tf.reshape(tf.add(tf.log(sum), max), [n]);
    // a gather of N values, not a [N, V] one-hot product, in the forward pass
    const picked = tf.gather(tf.reshape(logits, [n * vocab]), tf.tensor1d(flatIdx, 'int32'));
    save([e, sum]);
    return {
      value: tf.sub(picked, lse),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ex, s] = saved;
        const softmax = tf.div(ex, s);
        // the targets are rebuilt from the array: a tensor made in the forward pass is disposed before this runs
        return tf.mul(tf.expandDims(dy, 1), tf.sub(tf.oneHot(tf.tensor1d(next, 'int32'), vocab), softmax));
      },
    };
  });
  return op(x) as tf.Tensor1D;
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
