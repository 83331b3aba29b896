import * as tf from '../../tf';

/**
 * Activation checkpointing for one transformer block: the forward pass keeps only the block's input; the backward
 * pass runs the block again under a tape of its own and takes the gradients from that. A block's intermediates
 * (attention scores, MLP activations, norms: hundreds of MB for GPT-2 small at 2×512 tokens) then live for one
 * block at a time instead of all of them, at the price of one more forward pass.
 *
 * `params` are the block's trainable variables: inside a custom kernel tfjs records nothing, so the gradients of
 * whatever the block trains must come back through this op as gradients of its inputs. `run` must be a pure
 * function of its input, those variables and `consts` (dropout seeded the same both times), so the recomputation is
 * exact. `consts` (attention bias, RoPE tables) belong to the caller's scope, which is gone by the backward pass, so
 * the op keeps its own copies and hands those to the recomputation.
 */
export function checkpointed(
  run: (x: tf.Tensor2D, consts: readonly tf.Tensor[]) => tf.Tensor2D,
  x: tf.Tensor2D,
  consts: readonly tf.Tensor[],
  params: readonly tf.Variable[],
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor2D;
    const value = tf.tidy(() => run(input, consts));
    save([input, ...consts]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x0, ...c0] = saved;
        const { grads } = nestedGradients(() => run(x0 as tf.Tensor2D, c0), [x0, ...params], dy);
        // a variable the block did not touch this time (adapters off) gets a zero gradient
        return grads.map((g, i) => g ?? tf.zerosLike(i === 0 ? x0 : params[i - 1]));
      },
    };
  });
  return op(x, ...params) as tf.Tensor2D;
}

/** The engine fields a nested gradient computation must leave as it found them. */
interface TapeHolder {
  state: { activeTape: unknown };
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

/**
 * tfjs 4.22's engine.gradients starts a fresh tape when no gradient is being recorded, which is the case during the
 * outer backward pass, and clears it when done, taking the outer tape (still needed to free its saved tensors) with
 * it. The outer tape is put back afterwards; the version is pinned in package.json, and the checkpoint tests fail if
 * this stops holding.
 */
function nestedGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): { grads: (tf.Tensor | undefined)[] } {
  const engine = tf.engine() as unknown as TapeHolder;
  const outer = engine.state.activeTape;
  try {
    const { value, grads } = engine.gradients(f, xs, dy, true);
    value.dispose();
    return { grads };
  } finally {
    engine.state.activeTape = outer;
  }
}
