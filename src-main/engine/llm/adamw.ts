import * as tf from '../tf';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}
export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Optimiser state as plain arrays, for checkpoints: moments by variable name and the step count. */
export interface AdamWState {
  step: number;
  m: Record<string, { shape: number[]; data: Float32Array }>;
  v: Record<string, { shape: number[]; data: Float32Array }>;
}

/**
 * AdamW (Loshchilov & Hutter; torch.optim.AdamW's update order: decay, then the bias-corrected Adam step), with
 * the learning rate given per step so any schedule drives it. tfjs's own AdamOptimizer has no decoupled decay
 * and no state export that a checkpoint can restore by variable name.
 */
export class AdamW {
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly vars: ReadonlyMap<string, tf.Variable>,
    private readonly o: AdamWOptions = ADAMW_DEFAULTS,
  ) {
    for (const [name, p] of vars) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /** One update with gradients keyed like the variables (a missing gradient leaves its variable alone). */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.o;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (const [name, p] of this.vars) {
      const g = grads.get(name);
      if (!g) continue;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(m1);
        v.assign(v1);
        const decayed = weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        const update = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), eps));
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    }
  }

  exportState(): AdamWState {
    const dump = (src: Map<string, tf.Variable>) =>
      Object.fromEntries([...src].map(([k, t]) => [k, { shape: t.shape.slice(), data: t.dataSync() as Float32Array }]));
    return { step: this.t, m: dump(this.m), v: dump(this.v) };
  }

  /** Restores a checkpoint's state; names and shapes must match the variables exactly. */
  importState(s: AdamWState): void {
    for (const [which, src, dst] of [
      ['m', s.m, this.m],
      ['v', s.v, this.v],
    ] as const) {
      for (const [name, variable] of dst) {
        const saved = src[name];
        if (!saved) throw new Error(`optimizer state has no ${which} for ${name}`);
        if (saved.shape.join(',') !== variable.shape.join(','))
          throw new Error(`optimizer state ${which} for ${name} has shape [${saved.shape}], the model has [${variable.shape}]`);
        variable.assign(tf.tensor(saved.data, saved.shape, 'float32'));
      }
    }
    this.t = s.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * Scales the gradients in place of the map so their global L2 norm is at most maxNorm (0 = no clipping), as
 * torch.nn.utils.clip_grad_norm_ does. Returns the norm before clipping (the `grad_norm` metric).
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
  const value = norm.dataSync()[0];
  norm.dispose();
  if (maxNorm > 0 && value > maxNorm) {
    const scale = maxNorm / (value + 1e-6);
    for (const [k, g] of grads) {
      grads.set(k, tf.mul(g, scale));
      g.dispose();
    }
  }
  return value;
}
