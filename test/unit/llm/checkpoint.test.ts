/**
 * Activation checkpointing (models/checkpoint.ts) changes what the backward pass keeps, never what it computes:
 * log-probs and every trainable gradient equal the plain pass's, with LoRA (dropout on, so the recomputation must
 * draw the same masks) and with full fine-tuning, for each architecture, and no tensor is left behind.
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
import { writeTinyModel, type TinyModelOptions } from '../../support/tiny-models';
import { tempDir } from '../tmp';

const require = createRequire(import.meta.url);
const tmp = tempDir('dpo-lab-checkpoint-');
afterAll(async () => {
  await tf.setBackend('cpu');
  tmp.cleanup();
});

const VOCAB = 53;
const cases: { arch: TinyModelOptions['arch']; mode: 'lora' | 'full'; backend: 'cpu' | 'wasm' }[] = [
  { arch: 'gpt2', mode: 'lora', backend: 'cpu' },
  { arch: 'llama', mode: 'lora', backend: 'cpu' },
  { arch: 'qwen2', mode: 'full', backend: 'cpu' },
  { arch: 'gpt2', mode: 'full', backend: 'wasm' },
  { arch: 'llama', mode: 'lora', backend: 'wasm' },
];

describe('activation checkpointing', () => {
  it.each(cases)('$arch, $mode, $backend: same log-probs and gradients as the plain pass, nothing leaked', async ({ arch, mode, backend }) => {
    if (backend === 'wasm') setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
    expect(await tf.setBackend(backend)).toBe(true);
    const dir = tmp.file(`${arch}-${mode}-${backend}`);
    writeTinyModel(dir, { arch, vocabSize: VOCAB, layers: 3, tokenizer: false, seed: 4 });
    const lm = await loadCausalLM(dir, mode === 'lora' ? { lora: { rank: 2, alpha: 4, dropout: 0.2 }, train: true, seed: 1 } : { train: true, seed: 1 });
    // LoRA's B starts at zero, which would make A's gradient zero: give every adapter values
    if (mode === 'lora') for (const v of lm.trainableVariables()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 5));
    const rng = new Rng(8, 'checkpoint');
    const seq = (p: number, r: number) => ({ ids: Array.from({ length: p + r }, () => Math.floor(rng.uniform(0, VOCAB))), promptLen: p, responseLen: r });
    const batch = packSequences([seq(3, 6), seq(4, 3), seq(2, 7)], 0);
    const run = (checkpoint: boolean) => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(sequenceLogps(lm, batch, { training: true, dropoutSeed: 11, checkpoint }), tf.tensor1d([1, -0.7, 1.5]))) as tf.Scalar,
        lm.trainableVariables(),
      );
      const out = { value: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    // checkpointed first, on a fresh model: its frozen weights are transposed for each backward pass, not kept
    const ckpt = run(true);
    const plain = run(false);
    const before = tf.memory().numTensors;
    run(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(ckpt.value).toBeCloseTo(plain.value, 5);
    expect(ckpt.grads.length).toBe(plain.grads.length);
    let nonzero = 0;
    plain.grads.forEach((g, k) =>
      g.forEach((x, i) => {
        if (x !== 0) nonzero++;
        expect(Math.abs(ckpt.grads[k][i] - x)).toBeLessThan(1e-5 * Math.max(1, Math.abs(x)));
      }),
    );
    expect(nonzero).toBeGreaterThan(0);
    lm.dispose();
  });
});
