import * as tf from '../tf';
import type { SequenceBatch } from './sequence-batch';
import { headProduct, type FrozenHead } from './models/frozen-head';

type PassOptions = { training?: boolean; adapters?: boolean; dropoutSeed?: number; checkpoint?: boolean };

/** What sequence log-probs need from a model: logits for a padded batch, or hidden states and its output head. */
export interface LogitsModel {
  forward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: PassOptions): tf.Tensor3D;
  hidden?(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts?: PassOptions): tf.Tensor3D;
  /** logits [N, V] of hidden states [N, d] (the head, trainable or not) */
  headLogits?(h: tf.Tensor2D): tf.Tensor2D;
  frozenHeadWeights?(): FrozenHead | null;
}

/**
 * Above this many logits (rows × vocabulary) a batch's log-probs go through a frozen head in chunks of rows, so no
 * [N, V] tensor of the whole batch exists: 1024 tokens of a 50k vocabulary are 206 MB per copy, and the softmax and
 * its gradient need several, more than the WASM heap holds beside GPT-2 small. The backward pass then recomputes
 * each chunk's logits.
 */
export const MAX_LOGIT_ELEMENTS = 32 * 2 ** 20;

/** The positions whose next token is a response token: only they reach the head (prompt and padding never do). */
interface ResponsePositions {
  /** flat index row·length + t */
  flat: Int32Array;
  /** the token each position predicts */
  next: Int32Array;
  /** the row each position belongs to */
  row: Int32Array;
}

function responsePositions(b: SequenceBatch): ResponsePositions {
  const flat: number[] = [];
  for (let i = 0; i < b.target.length; i++) if (b.target[i] === 1) flat.push(i);
  const f = Int32Array.from(flat);
  return { flat: f, next: f.map((i) => b.next[i]), row: f.map((i) => Math.floor(i / b.length)) };
}

/**
 * Σ over response positions of log softmax(logits)[next token], per row: [rows]. As TRL computes it: the
 * log-softmax over the whole vocabulary at each position, the next token gathered, prompt and padding masked.
 * The head, ~80% of a small model's work at a 50k vocabulary, runs only on the response positions: a masked
 * position's log-prob is multiplied by 0 anyway, so leaving it out changes nothing but the time.
 */
export function sequenceLogps(model: LogitsModel, b: SequenceBatch, opts: PassOptions & { maxLogitElements?: number } = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const ids = tf.tensor2d(b.ids, [b.rows, b.length], 'int32');
    const mask = tf.tensor2d(b.attention, [b.rows, b.length], 'float32');
    const n = b.rows * b.length;
    if (model.hidden && (model.headLogits || model.frozenHeadWeights)) {
      const pos = responsePositions(b);
      const m = pos.flat.length;
      if (m === 0) return tf.zeros([b.rows]) as tf.Tensor1D;
      const hs = model.hidden(ids, mask, opts);
      const h = tf.gather(tf.reshape(hs, [n, hs.shape[2]]), tf.tensor1d(pos.flat, 'int32')) as tf.Tensor2D;
      const head = model.frozenHeadWeights ? model.frozenHeadWeights() : null;
      const maxElements = opts.maxLogitElements ?? MAX_LOGIT_ELEMENTS;
      let tokenLogp: tf.Tensor1D;
      if (head) {
        const vocab = head.wT.shape[0];
        const rowsPerChunk = m * vocab <= maxElements ? m : Math.max(1, Math.floor(maxElements / 4 / vocab));
        tokenLogp = frozenHeadLogp(h, head, pos.next, rowsPerChunk);
      } else tokenLogp = nextTokenLogp(model.headLogits!(h), pos.next);
      return perRowSum(tokenLogp, pos.row, b.rows);
    }
    const logits = model.forward(ids, mask, opts);
    const tokenLogp = nextTokenLogp(tf.reshape(logits, [n, logits.shape[2]]), b.next);
    return tf.sum(tf.reshape(tf.mul(tokenLogp, tf.tensor1d(b.target, 'float32')), [b.rows, b.length]), 1) as tf.Tensor1D;
  });
}

/** Σ of values [m] per row, as a [rows, m] 0/1 product: differentiable on every backend without a scatter kernel. */
function perRowSum(values: tf.Tensor1D, row: Int32Array, rows: number): tf.Tensor1D {
  const m = row.length;
  const sel = new Float32Array(rows * m);
  for (let i = 0; i < m; i++) sel[row[i] * m + i] = 1;
  return tf.reshape(tf.matMul(tf.tensor2d(sel, [rows, m]), tf.reshape(values, [m, 1])), [rows]) as tf.Tensor1D;
}

const columnNorms = new WeakMap<tf.Tensor, number>();
/** The largest column norm of a frozen head W [d, V], once per head. */
function maxColumnNorm(head: FrozenHead): number {
  const key = head.w ?? head.wT;
  let n = columnNorms.get(key);
  if (n === undefined) {
    // W's columns are Wᵀ's rows
    n = tf.tidy(() => tf.max(head.w ? tf.norm(head.w, 'euclidean', 0) : tf.norm(head.wT, 'euclidean', 1)).dataSync()[0]);
    columnNorms.set(key, n);
  }
  return n;
}

/**
 * log softmax(h·W)[i, next[i]] for hidden states h [m, d] and a frozen head W [d, V], as one op with its own
 * gradient: dh = dy·(W[:, next] − softmax·Wᵀ), so neither a one-hot nor an (onehot − softmax) [m, V] tensor is
 * ever made; the next-token term is a gather of m rows of Wᵀ. In chunks of rows when the logits of all rows would
 * not fit (see MAX_LOGIT_ELEMENTS); one chunk keeps its exponentials for the backward pass, several recompute their
 * logits from h and the saved log-sum-exp.
 */
function frozenHeadLogp(h: tf.Tensor2D, head: FrozenHead, next: Int32Array, rowsPerChunk: number): tf.Tensor1D {
  const [m] = h.shape;
  const vocab = head.wT.shape[0];
  const chunks: [number, number][] = [];
  for (let r = 0; r < m; r += rowsPerChunk) chunks.push([r, Math.min(m, r + rowsPerChunk)]);
  const single = chunks.length === 1;
  const flatTargets = (r0: number, r1: number) =>
    tf.tensor1d(
      Int32Array.from({ length: r1 - r0 }, (_, i) => i * vocab + next[r0 + i]),
      'int32',
    );
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const lses: tf.Tensor[] = [];
    const values: tf.Tensor[] = [];
    let kept: tf.Tensor[] = [];
    // |logit| ≤ ‖h_i‖·max_j ‖W_j‖: below 80 no exponential can overflow (or the sum vanish), so log Σ exp needs no
    // max shift, which saves two passes over the [m, V] logits
    const unshifted = tf.tidy(() => tf.max(tf.norm(x, 'euclidean', 1)).dataSync()[0]) * maxColumnNorm(head) < 80;
    for (const [r0, r1] of chunks) {
      const [lse, value, e, sum] = tf.tidy(() => {
        const logits = headProduct(single ? x : tf.slice(x, [r0, 0], [r1 - r0, -1]), head);
        const max = unshifted ? null : tf.max(logits, 1, true);
        const ex = tf.exp(max ? tf.sub(logits, max) : logits);
        const s = tf.sum(ex, 1, true);
        const l = max ? tf.add(tf.reshape(tf.log(s), [r1 - r0]), tf.reshape(max, [r1 - r0])) : tf.reshape(tf.log(s), [r1 - r0]);
        const picked = tf.gather(tf.reshape(logits, [(r1 - r0) * vocab]), flatTargets(r0, r1));
        return [l, tf.sub(picked, l), ex, s];
      });
      lses.push(lse);
      values.push(value);
      if (single) kept = [e, sum];
      else tf.dispose([e, sum]);
    }
    save([x, single ? lses[0] : tf.concat(lses), ...kept]);
    return {
      value: single ? values[0] : (tf.concat(values) as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, lse, ex, s] = saved;
        const parts = chunks.map(([r0, r1]) =>
          tf.tidy(() => {
            const rows = r1 - r0;
            const dyc = single ? dy : tf.slice(dy, [r0], [rows]);
            // softmax·dy row by row: e/Σe·dy for the kept chunk, exp(logits − lse)·dy for a recomputed one
            const scaled = single
              ? tf.mul(ex, tf.div(tf.expandDims(dyc, 1), s))
              : tf.mul(
                  tf.exp(tf.sub(headProduct(tf.slice(xs, [r0, 0], [rows, -1]) as tf.Tensor2D, head), tf.expandDims(tf.slice(lse, [r0], [rows]), 1))),
                  tf.expandDims(dyc, 1),
                );
            const onTarget = tf.mul(tf.gather(head.wT, tf.tensor1d(next.subarray(r0, r1), 'int32')), tf.expandDims(dyc, 1));
            return tf.sub(onTarget, tf.matMul(scaled as tf.Tensor2D, head.wT));
          }),
        );
        return single ? parts[0] : tf.concat(parts);
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
