import * as tf from '../tf';

const detach = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return {
    // clone, not x itself: the engine records a kernel and needs a fresh output tensor for it
    value: x.clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  };
});

/**
 * Identity in the forward pass, zero gradient in the backward pass. tfjs has no tf.stopGradient, and the
 * loss definitions (losses.md) rely on detached factors (λ, λw, sg(rw)) to shape the gradient without
 * changing the value. The customGrad wrapper is built once at module load and shared by every loss.
 */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  return detach(x);
}

/** −log σ(z), written as softplus(−z) because log(sigmoid(z)) underflows to −∞ for z ≲ −88 in float32. */
export function negLogSigmoid(z: tf.Tensor): tf.Tensor {
  return tf.softplus(tf.neg(z));
}

/**
 * −log σ(scale·x) in two ops instead of three: the sigmoid-family losses all have the form −log σ(β·m),
 * and the synthetic trainer pays a fixed cost per op, so folding β into the negation is worth it.
 */
export function negLogSigmoidScaled(x: tf.Tensor, scale: number): tf.Tensor {
  return tf.softplus(tf.mul(x, -scale));
}
