import { describe, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { AdamW, clipByGlobalNorm } from '../../../src-main/engine/llm/adamw';
import { learningRateAt } from '../../../src-main/engine/llm/schedule';
import { packSequences } from '../../../src-main/engine/llm/sequence-batch';

describe('learning-rate schedules (transformers conventions, counter 0 at the first update)', () => {
  const o = { lr: 1, steps: 10, warmupSteps: 2 };
  it('linear: warm-up from 0, then down to lr/(S−W) at the last step', () => {
    const got = Array.from({ length: 10 }, (_, i) => learningRateAt(i + 1, { ...o, schedule: 'linear' }));
    // get_linear_schedule_with_warmup(…, 2, 10): k/2 for k<2, else (10−k)/8
    expect(got).toEqual([0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8]);
  });
  it('cosine: half a cosine from lr to 0 over the steps after warm-up', () => {
    const got = Array.from({ length: 10 }, (_, i) => learningRateAt(i + 1, { ...o, schedule: 'cosine' }));
    got.slice(2).forEach((v, j) => expect(v).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * j) / 8)), 12));
    expect(got[0]).toBe(0);
  });
  it('constant after warm-up; no warm-up starts at lr', () => {
    expect(learningRateAt(5, { ...o, schedule: 'constant' })).toBe(1);
    expect(learningRateAt(1, { lr: 0.1, steps: 5, warmupSteps: 0, schedule: 'linear' })).toBeCloseTo(0.1, 12);
  });
});

describe('AdamW', () => {
  it("matches torch.optim.AdamW's update written out in float64", () => {
    const w0 = [0.5, -1.25, 2];
    const grads = [
      [0.1, -0.2, 0.3],
      [-0.4, 0.05, 0.2],
      [0.3, 0.3, -0.1],
    ];
    const lrs = [0.1, 0.05, 0.02];
    const o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    // reference: p ← p(1 − lr·wd); m, v moments; p ← p − lr·m̂/(√v̂ + ε)
    const p = [...w0];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    grads.forEach((g, t) => {
      for (let i = 0; i < 3; i++) {
        p[i] *= 1 - lrs[t] * o.weightDecay;
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
        v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] ** 2;
        const mh = m[i] / (1 - o.beta1 ** (t + 1));
        const vh = v[i] / (1 - o.beta2 ** (t + 1));
        p[i] -= (lrs[t] * mh) / (Math.sqrt(vh) + o.eps);
      }
    });
    const w = tf.variable(tf.tensor1d(w0));
    const opt = new AdamW(new Map([['w', w]]), o);
    grads.forEach((g, t) => opt.apply(new Map([['w', tf.tensor1d(g)]]), lrs[t]));
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(p[i], 5));

    // state round trip: a restored optimiser takes the same next step
    const state = opt.exportState();
    const w2 = tf.variable(tf.tensor1d(Array.from(w.dataSync())));
    const opt2 = new AdamW(new Map([['w', w2]]), o);
    opt2.importState(state);
    opt.apply(new Map([['w', tf.tensor1d([0.2, 0.2, 0.2])]]), 0.01);
    opt2.apply(new Map([['w', tf.tensor1d([0.2, 0.2, 0.2])]]), 0.01);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w.dataSync()));
    expect(() => opt2.importState({ ...state, m: {} })).toThrow(/no m for w/);
  });

  it('clips the global norm like clip_grad_norm_ and reports the norm before clipping', () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    expect(clipByGlobalNorm(grads, 1)).toBeCloseTo(5, 5);
    const after = Math.hypot(...grads.get('a')!.dataSync(), ...grads.get('b')!.dataSync());
    expect(after).toBeCloseTo(1, 4);
    const small = new Map<string, tf.Tensor>([['a', tf.tensor1d([0.3, 0.4])]]);
    expect(clipByGlobalNorm(small, 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(small.get('a')!.dataSync())).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });
});

describe('packSequences', () => {
  it('right-pads, masks padding, and marks the positions that predict response tokens', () => {
    // prompt [5, 6], response [7, EOS=0]; second: prompt [5], response [9, 0], truncated nothing
    const b = packSequences(
      [
        { ids: [5, 6, 7, 0], promptLen: 2, responseLen: 2 },
        { ids: [5, 9, 0], promptLen: 1, responseLen: 2 },
      ],
      99,
    );
    expect(b.length).toBe(4);
    expect(Array.from(b.ids)).toEqual([5, 6, 7, 0, 5, 9, 0, 99]);
    expect(Array.from(b.attention)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    // position t predicts t+1: row 0 predicts 7 at t=1 and EOS at t=2
    expect(Array.from(b.target)).toEqual([0, 1, 1, 0, 1, 1, 0, 0]);
    expect(Array.from(b.next)).toEqual([6, 7, 0, 99, 9, 0, 99, 99]);
    expect(b.tokens).toBe(7);
  });
});
