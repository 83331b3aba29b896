import * as tf from '../../tf';

/**
 * A frozen LM head as its products need it: W [d, V] and Wᵀ [V, d] (the next-token gather reads rows of Wᵀ).
 * w is null where only Wᵀ is kept and x·W reads it transposed in place, which OpenBLAS does at full speed
 * (native-gemm.ts) and WASM's own matMul does not.
 */
export interface FrozenHead {
  w: tf.Tensor2D | null;
  wT: tf.Tensor2D;
}

/** x [N, d] · W → [N, V]. */
export function headProduct(x: tf.Tensor2D, head: FrozenHead): tf.Tensor2D {
  return head.w ? tf.matMul(x, head.w) : tf.matMul(x, head.wT, false, true);
}
