/**
 * Generation (generate.ts + the KV-cached forward of models/index.ts) on tiny random models: batched, left-padded
 * cached decoding agrees token for token with a naive loop that reruns the uncached forward on each prompt alone;
 * seeded sampling is reproducible and independent of the batch; EOS, the token budget and the context stop it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { loadCausalLM, type CausalLM } from '../../../src-main/engine/llm/models';
import { loadTokenizer, type LabTokenizer } from '../../../src-main/engine/llm/tokenizer';
import { generate, pickToken } from '../../../src-main/engine/llm/generate';
import { Rng } from '../../../src-main/engine/synthetic/rng';
import { writeTinyModel, type TinyModelOptions } from '../../support/tiny-models';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-generate-');
afterAll(() => tmp.cleanup());

/** Greedy decoding the slow way: the whole sequence through the uncached forward, one prompt at a time. */
function naiveGreedy(lm: CausalLM, prompt: number[], maxNew: number, eos: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  while (out.length < maxNew && seq.length < lm.spec.maxPositions) {
    const tok = tf.tidy(() => {
      const logits = lm.forward(tf.tensor2d([seq], [1, seq.length], 'int32'), tf.ones([1, seq.length]) as tf.Tensor2D);
      return tf.argMax(tf.reshape(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, -1]), [-1])).dataSync()[0];
    });
    if (tok === eos) break;
    out.push(tok);
    seq.push(tok);
  }
  return out;
}

const TEXTS = ['The cat sat on', 'Hello', 'A much longer prompt about the weather in the city', 'it is'];

const CASES: [string, TinyModelOptions][] = [
  ['gpt2', { arch: 'gpt2', seed: 11, maxPositions: 64 }],
  ['llama (grouped-query attention)', { arch: 'llama', seed: 12, heads: 4, kvHeads: 2, maxPositions: 64 }],
  ['qwen2', { arch: 'qwen2', seed: 13, maxPositions: 64 }],
];

describe.each(CASES)('generation with a KV cache: %s', (name, opts) => {
  let lm: CausalLM;
  let tok: LabTokenizer;
  let prompts: number[][];
  beforeAll(async () => {
    const dir = tmp.file(name.split(' ')[0]);
    writeTinyModel(dir, opts);
    lm = await loadCausalLM(dir);
    tok = await loadTokenizer(dir);
    prompts = TEXTS.map((t) => tok.encode(t));
  });
  afterAll(() => lm.dispose());

  it('greedy, batched and left-padded, equals the uncached forward on each prompt alone, token for token', () => {
    const res = generate(lm, tok, prompts, { maxNewTokens: 12, temperature: 0, topP: 1, seed: 0, batchSize: 3 });
    const expected = prompts.map((p) => naiveGreedy(lm, p, 12, tok.eosTokenId));
    expect(res.sequences).toEqual(expected);
    expect(res.sequences.every((s) => s.length > 0)).toBe(true);
    expect(res.texts[0]).toBe(tok.decode(expected[0], { skipSpecialTokens: true }));
    expect(res.tokensPerSecond).toBeGreaterThan(0);
    expect(res.newTokens).toBe(expected.reduce((n, s) => n + s.length, 0));
  });

  it('cached step logits equal the uncached forward logits', () => {
    const p = prompts[2];
    const cache = lm.startCache(1, p.length);
    try {
      const head = 5;
      const a = lm.forwardCached(tf.tensor2d([p.slice(0, head)], [1, head], 'int32'), cache);
      const b = lm.forwardCached(tf.tensor2d([p.slice(head)], [1, p.length - head], 'int32'), cache);
      const cached = tf.concat([a, b], 1);
      const full = lm.forward(tf.tensor2d([p], [1, p.length], 'int32'), tf.ones([1, p.length]) as tf.Tensor2D);
      const diff = tf.max(tf.abs(tf.sub(cached, full))).dataSync()[0];
      expect(diff).toBeLessThan(1e-4);
      tf.dispose([a, b, cached, full]);
    } finally {
      cache.dispose();
    }
  });

  it('seeded sampling is reproducible, the same in any batch size, and changes with the seed', () => {
    const o = { maxNewTokens: 10, temperature: 1.2, topP: 0.95, seed: 7 };
    const a = generate(lm, tok, prompts, { ...o, batchSize: 4 });
    const b = generate(lm, tok, prompts, { ...o, batchSize: 1 });
    const c = generate(lm, tok, prompts, { ...o, seed: 8, batchSize: 4 });
    expect(b.sequences).toEqual(a.sequences);
    expect(c.sequences).not.toEqual(a.sequences);
  });

  it('stops at EOS (stripped) and at the context, and says why', () => {
    const greedy = generate(lm, tok, [prompts[0]], { maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, batchSize: 1 });
    const third = greedy.sequences[0][2];
    // the same tokenizer with the third greedy token as EOS: decoding must stop before it
    const withEos: LabTokenizer = { ...tok, eosTokenId: third };
    const stopped = generate(lm, withEos, [prompts[0], prompts[1]], { maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, batchSize: 2 });
    const firstEos = greedy.sequences[0].indexOf(third);
    expect(stopped.sequences[0]).toEqual(greedy.sequences[0].slice(0, firstEos));
    expect(stopped.finish[0]).toBe('eos');

    const long = Array.from({ length: lm.spec.maxPositions - 3 }, (_, i) => prompts[2][i % prompts[2].length]);
    const ctx = generate(lm, tok, [long, prompts[1]], { maxNewTokens: 10, temperature: 0, topP: 1, seed: 0, batchSize: 2 });
    expect(ctx.sequences[0]).toEqual(naiveGreedy(lm, long, 10, tok.eosTokenId));
    expect(ctx.sequences[0].length).toBeLessThanOrEqual(3);
    expect(ctx.finish[0]).toBe(ctx.sequences[0].length === 3 ? 'context' : 'eos');
    expect(ctx.sequences[1]).toEqual(naiveGreedy(lm, prompts[1], 10, tok.eosTokenId));
  });

  it('bad prompts are named: empty, or as long as the context', () => {
    const o = { maxNewTokens: 4, temperature: 0, topP: 1, seed: 0, batchSize: 2 };
    expect(() => generate(lm, tok, [prompts[0], []], o)).toThrow(/prompt 2 is empty/);
    const tooLong = new Array<number>(lm.spec.maxPositions).fill(prompts[0][0]);
    expect(() => generate(lm, tok, [tooLong], o)).toThrow(/prompt 1 has 64 tokens; the model's context is 64/);
    expect(() => generate(lm, tok, [prompts[0]], { ...o, topP: 0 })).toThrow(/topP/);
  });
});

describe('pickToken', () => {
  const logits = Float32Array.from([0.1, 2.0, 1.9, -1, 0.5]);
  it('greedy is the argmax; a tiny top-p keeps only the most likely token', () => {
    expect(pickToken(logits, 0, 1, null)).toBe(1);
    const rng = new Rng(1, 'pick');
    for (let i = 0; i < 50; i++) expect(pickToken(logits, 1, 1e-6, rng)).toBe(1);
  });
  it('top-p 0.9 never samples outside the nucleus; sampling frequencies follow the softmax', () => {
    const rng = new Rng(2, 'pick');
    const counts = new Array<number>(5).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[pickToken(logits, 1, 1, rng)]++;
    const z = [...logits].reduce((s, x) => s + Math.exp(x), 0);
    [...logits].forEach((x, i) => expect(Math.abs(counts[i] / n - Math.exp(x) / z)).toBeLessThan(0.015));
    // probabilities ≈ [.07, .44, .40, .02, .10]: the 0.9 nucleus is {1, 2, 4}
    const nucleus = new Set<number>();
    for (let i = 0; i < 2000; i++) nucleus.add(pickToken(logits, 1, 0.9, rng));
    expect([...nucleus].sort()).toEqual([1, 2, 4]);
  });
});
