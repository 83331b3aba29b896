import * as tf from '../tf';
import type { SequenceBatch } from './sequence-batch';

type PassOptions = { training?: boolean; adapters?: boolean; dropoutSeed?: number };

/** What sequence log-probs need from a model: logits for a padded batch, or hidden states and a frozen head. */
export interface LogitsModel {
  forward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: PassOptions): tf.Tensor3D;
  hidden?(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: PassOptions): tf.Tensor3D;
  frozenHeadWeights?(): { w: tf.Tensor2D; wT: tf.Tensor2D } | null;
}

/**
 * Above this many logits (rows × vocabulary) a batch's log-probs go through the head in chunks of rows, so no
 * [N, V] tensor exists: 1024 tokens of a 50k vocabulary are 206 MB per copy, and the softmax and its gradient need
 * several, more than the WASM heap holds beside GPT-2 small. The backward pass then recomputes each chunk's logits.
 */
export const MAX_LOGIT_ELEMENTS = 32 * 2 ** 20;

/**
 * Σ over response positions of log softmax(logits)[next token], per row: [rows]. As TRL computes it: the
 * log-softmax over the whole vocabulary at each position, the next token gathered, prompt and padding masked.
 */
export function sequenceLogps(model: LogitsModel, b: SequenceBatch, opts: PassOptions & { maxLogitElements?: number } = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const ids = tf.tensor2d(b.ids, [b.rows, b.length], 'int32');
    const mask = tf.tensor2d(b.attention, [b.rows, b.length], 'float32');
    const n = b.rows * b.length;
    const head = model.hidden && model.frozenHeadWeights ? model.frozenHeadWeights() : null;
    let tokenLogp: tf.Tensor1D;
    if (head && n * head.w.shape[1] > (opts.maxLogitElements ?? MAX_LOGIT_ELEMENTS)) {
      const hs = model.hidden!(ids, mask, opts);
      const rowsPerChunk = Math.max(1, Math.floor((opts.maxLogitElements ?? MAX_LOGIT_ELEMENTS) / 4 / head.w.shape[1]));
      tokenLogp = chunkedHeadLogp(tf.reshape(hs, [n, hs.shape[2]]), head, b.next, rowsPerChunk);
    } else {
      const logits = model.forward(ids, mask, opts);
      tokenLogp = nextTokenLogp(tf.reshape(logits, [n, logits.shape[2]]), b.next);
    }
    return tf.sum(tf.reshape(tf.mul(tokenLogp, tf.tensor1d(b.target, 'float32')), [b.rows, b.length]), 1) as tf.Tensor1D;
  });
}

/**
 * log softmax(h·W)[n, next[n]] for hidden states h [N, d] and a frozen head W, chunk by chunk of rows; the gradient
 * (onehot − softmax)·dy·Wᵀ recomputes each chunk's logits from h and the saved log-sum-exp.
 */
function chunkedHeadLogp(h: tf.Tensor2D, head: { w: tf.Tensor2D; wT: tf.Tensor2D }, next: Int32Array, rowsPerChunk: number): tf.Tensor1D {
  const [n] = h.shape;
  const vocab = head.w.shape[1];
  const chunks: [number, number][] = [];
  for (let r = 0; r < n; r += rowsPerChunk) chunks.push([r, Math.min(n, r + rowsPerChunk)]);
  const targets = (r0: number, r1: number, flat: boolean) =>
    tf.tensor1d(
      Int32Array.from({ length: r1 - r0 }, (_, i) => (flat ? i * vocab : 0) + next[r0 + i]),
      'int32',
    );
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const lses: tf.Tensor[] = [];
    const values: tf.Tensor[] = [];
    for (const [r0, r1] of chunks) {
      const [lse, value] = tf.tidy(() => {
        const logits = tf.matMul(tf.slice(x, [r0, 0], [r1 - r0, -1]), head.w);
        const l = tf.logSumExp(logits, 1);
        const picked = tf.gather(tf.reshape(logits, [(r1 - r0) * vocab]), targets(r0, r1, true));
        return [l, tf.sub(picked, l)];
      });
      lses.push(lse);
      values.push(value);
    }
    const lseAll = tf.concat(lses);
    (args[1] as tf.GradSaveFunc)([x, lseAll]);
    return {
      value: tf.concat(values) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, lse] = saved;
        const parts = chunks.map(([r0, r1]) =>
          tf.tidy(() => {
            const logits = tf.matMul(tf.slice(xs, [r0, 0], [r1 - r0, -1]) as tf.Tensor2D, head.w);
            const softmax = tf.exp(tf.sub(logits, tf.expandDims(tf.slice(lse, [r0], [r1 - r0]), 1)));
            const g = tf.mul(tf.expandDims(tf.slice(dy, [r0], [r1 - r0]), 1), tf.sub(tf.oneHot(targets(r0, r1, false), vocab), softmax));
            return tf.matMul(g as tf.Tensor2D, head.wT);
          }),
        );
        return tf.concat(parts);
      },
    };
  });
  return op(h) as tf.Tensor1D;
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
