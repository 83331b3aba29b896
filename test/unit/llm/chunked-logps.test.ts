/**
 * Sequence log-probs through the head chunk by chunk (large batches of a large vocabulary) equal the one-pass
 * computation, values and gradients, for a tied and an untied head, on the pure-JS and WASM backends.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { loadCausalLM } from '../../../src-main/engine/llm/models';
import { sequenceLogps } from '../../../src-main/engine/llm/logps';
import { packSequences } from '../../../src-main/engine/llm/sequence-batch';
import { Rng } from '../../../src-main/engine/synthetic/rng';
import { writeTinyModel } from '../../support/tiny-models';
import { tempDir } from '../tmp';

const require = createRequire(import.meta.url);
const tmp = tempDir('dpo-lab-chunked-');
afterAll(async () => {
  await tf.setBackend('cpu');
  tmp.cleanup();
});

const VOCAB = 61;

describe('chunked head log-probs', () => {
  for (const backend of ['cpu', 'wasm'] as const)
    it.each([true, false])(`${backend}, tied head %s: chunks of 3 rows give the one-pass values and LoRA gradients`, async (tie) => {
      if (backend === 'wasm') setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
      expect(await tf.setBackend(backend)).toBe(true);
      const dir = tmp.file(`m-${backend}-${tie}`);
      writeTinyModel(dir, { arch: 'llama', vocabSize: VOCAB, tie, tokenizer: false, seed: 9 });
      const lm = await loadCausalLM(dir, { lora: { rank: 2, alpha: 4 }, train: true, seed: 1 });
      // B = 0 at the start would make A's gradient zero: give B values so every adapter gradient is tested
      for (const v of lm.trainableVariables()) v.assign(tf.mul(tf.randomNormal(v.shape, 0, 0.3, 'float32', 5), 1));
      const rng = new Rng(3, 'chunked');
      const seq = (p: number, r: number) => ({ ids: Array.from({ length: p + r }, () => Math.floor(rng.uniform(0, VOCAB))), promptLen: p, responseLen: r });
      const batch = packSequences([seq(3, 7), seq(5, 4), seq(2, 6)], 0);
      const run = (maxLogitElements: number) => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.mul(sequenceLogps(lm, batch, { training: true, maxLogitElements }), tf.tensor1d([1, -0.5, 2]))) as tf.Scalar,
          lm.trainableVariables(),
        );
        const lp = sequenceLogps(lm, batch, { maxLogitElements });
        const out = { lp: Array.from(lp.dataSync()), value: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
        tf.dispose([value, lp, ...Object.values(grads)]);
        return out;
      };
      const whole = run(Infinity);
      const chunked = run(4 * VOCAB * 3);
      for (let i = 0; i < whole.lp.length; i++) expect(chunked.lp[i]).toBeCloseTo(whole.lp[i], 4);
      expect(chunked.value).toBeCloseTo(whole.value, 4);
      expect(chunked.grads.length).toBe(whole.grads.length);
      whole.grads.forEach((g, k) => g.forEach((x, i) => expect(Math.abs(chunked.grads[k][i] - x)).toBeLessThan(1e-4 * Math.max(1, Math.abs(x)))));
      lm.dispose();
    });
});
