/**
 * The tfjs causal LMs (models/index.ts) against an independent float64 forward pass (test/support/llm-reference.ts)
 * on tiny random models in the Hugging Face layout: logits and sequence log-probs of a right-padded batch, for
 * every architecture and the config variants that change the arithmetic, on the pure-JS and the WASM backend;
 * LoRA with B = 0 is the base model bit for bit; LoRA gradients agree with finite differences of the reference.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { loadCausalLM, type CausalLM } from '../../../src-main/engine/llm/models';
import { sequenceLogps } from '../../../src-main/engine/llm/logps';
import { packSequences, type TokenizedSequence } from '../../../src-main/engine/llm/sequence-batch';
import { Rng } from '../../../src-main/engine/synthetic/rng';
import { installNativeGemm, nativeGemmMissing, removeNativeGemm } from '../../../src-main/engine/llm/native-gemm';
import { writeTinyModel, writeTypedSafetensors, type TinyModelOptions } from '../../support/tiny-models';
import { referenceLogits, referenceSequenceLogp, type ReferenceLora, type ReferenceModel } from '../../support/llm-reference';
import { tempDir } from '../tmp';

const require = createRequire(import.meta.url);
const tmp = tempDir('dpo-lab-model-ref-');

type Backend = 'cpu' | 'wasm' | 'wasm+openblas';
/** wasm+openblas: WASM with OpenBLAS's sgemm for the products, as LLM runs use it where native/gemm is built. */
const BACKENDS: Backend[] = ['cpu', 'wasm', 'wasm+openblas'];
const skipped = (b: Backend) => b === 'wasm+openblas' && nativeGemmMissing() !== null;

async function useBackend(name: Backend): Promise<void> {
  if (name !== 'cpu') setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  expect(await tf.setBackend(name === 'cpu' ? 'cpu' : 'wasm')).toBe(true);
  if (name === 'wasm+openblas') expect(installNativeGemm()).toBeNull();
  else removeNativeGemm();
}

afterAll(async () => {
  removeNativeGemm();
  await tf.setBackend('cpu');
  tmp.cleanup();
});

const VOCAB = 97;

/** Two sequences of different lengths, so the second row of the batch is right-padded. */
function sequences(seed: number): TokenizedSequence[] {
  const rng = new Rng(seed, 'model-reference-ids');
  const make = (promptLen: number, responseLen: number): TokenizedSequence => ({
    ids: Array.from({ length: promptLen + responseLen }, () => Math.floor(rng.uniform(0, VOCAB))),
    promptLen,
    responseLen,
  });
  return [make(4, 6), make(2, 4)];
}

let counter = 0;
function tinyModel(o: Omit<TinyModelOptions, 'tokenizer' | 'vocabSize'>): { dir: string; ref: ReferenceModel } {
  const dir = tmp.file(`m${counter++}-${o.arch}`);
  const { weights, config } = writeTinyModel(dir, { ...o, vocabSize: VOCAB, tokenizer: false });
  return { dir, ref: { weights, config } };
}

/** max |a − b| / max |b|: the error relative to the size of the values. */
function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let size = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    size = Math.max(size, Math.abs(want[i]));
  }
  return err / size;
}

/** The model's logits for each row's real positions, from one forward pass over the padded batch. */
function batchLogits(model: CausalLM, seqs: TokenizedSequence[], adapters?: boolean): Float32Array[] {
  const b = packSequences(seqs, 0);
  const out = tf.tidy(() => {
    const ids = tf.tensor2d(b.ids, [b.rows, b.length], 'int32');
    const mask = tf.tensor2d(b.attention, [b.rows, b.length], 'float32');
    return model.forward(ids, mask, adapters === undefined ? {} : { adapters });
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return seqs.map((s, r) => data.slice(r * b.length * VOCAB, (r * b.length + s.ids.length) * VOCAB));
}

function logps(model: CausalLM, seqs: TokenizedSequence[], adapters?: boolean): number[] {
  const t = sequenceLogps(model, packSequences(seqs, 0), adapters === undefined ? {} : { adapters });
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

const flat = (rows: Float64Array[]): Float64Array => {
  const out = new Float64Array(rows.length * rows[0].length);
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
};

/** float32 against float64 over a few layers: ≤ 1e-6 in practice; a wrong mask, head mapping, RoPE band or activation is ≫ 1e-3. */
const TOL = 1e-4;

interface Case {
  name: string;
  opts: Omit<TinyModelOptions, 'tokenizer' | 'vocabSize'>;
}
const CASES: Case[] = [
  { name: 'gpt2 (tied head)', opts: { arch: 'gpt2', seed: 1 } },
  { name: 'gpt2, untied head', opts: { arch: 'gpt2', seed: 2, tie: false } },
  { name: 'gpt2, F16 file, 2 shards', opts: { arch: 'gpt2', seed: 3, dtype: 'F16', shards: 2 } },
  { name: 'llama (untied head)', opts: { arch: 'llama', seed: 4 } },
  { name: 'llama, tied head', opts: { arch: 'llama', seed: 5, tie: true } },
  { name: 'llama, GQA (4 query heads, 2 kv heads)', opts: { arch: 'llama', seed: 6, heads: 4, kvHeads: 2 } },
  { name: 'llama, rope_scaling linear', opts: { arch: 'llama', seed: 7, hidden: 32, heads: 2, ropeScaling: { rope_type: 'linear', factor: 4 } } },
  {
    // head_dim 16: with original_max_position_embeddings 64 the 8 frequencies fall in all three llama3 bands
    name: 'llama, rope_scaling llama3',
    opts: {
      arch: 'llama',
      seed: 8,
      hidden: 32,
      heads: 2,
      kvHeads: 1,
      ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
    },
  },
  { name: 'llama, rope_scaling linear in the older {type} form', opts: { arch: 'llama', seed: 13, ropeScaling: { type: 'linear', factor: 2 } } },
  { name: 'llama, BF16 file', opts: { arch: 'llama', seed: 9, dtype: 'BF16' } },
  { name: 'llama, F16 file', opts: { arch: 'llama', seed: 10, dtype: 'F16', kvHeads: 2 } },
  { name: 'qwen2 (q/k/v biases), GQA', opts: { arch: 'qwen2', seed: 11, kvHeads: 2 } },
  { name: 'qwen2, BF16 file, 2 shards, tied head', opts: { arch: 'qwen2', seed: 12, dtype: 'BF16', shards: 2, tie: true } },
];

for (const backend of BACKENDS) {
  describe.skipIf(skipped(backend))(`tfjs causal LM vs float64 reference (${backend})`, () => {
    for (const c of CASES) {
      it(`${c.name}: logits of a padded batch and sequence log-probs`, async () => {
        await useBackend(backend);
        const { dir, ref } = tinyModel(c.opts);
        const seqs = sequences(c.opts.seed ?? 0);
        const model = await loadCausalLM(dir);
        try {
          const got = batchLogits(model, seqs);
          seqs.forEach((s, r) => {
            const want = flat(referenceLogits(ref, s.ids));
            expect(relError(got[r], want), `row ${r} logits`).toBeLessThan(TOL);
          });
          const lp = logps(model, seqs);
          seqs.forEach((s, r) => {
            const want = referenceSequenceLogp(ref, s.ids, s.promptLen);
            expect(Math.abs(lp[r] - want) / Math.abs(want), `row ${r} log-prob ${lp[r]} vs ${want}`).toBeLessThan(TOL);
          });
        } finally {
          model.dispose();
        }
      });
    }
  });
}

describe('weights as other checkpoints name them (cpu)', () => {
  it('gpt2 without the transformer. prefix, with the attn.bias mask buffers of the original checkpoint', async () => {
    await useBackend('cpu');
    const { dir, ref } = tinyModel({ arch: 'gpt2', seed: 14 });
    const renamed: Record<string, { shape: number[]; values: Float64Array }> = {};
    for (const [n, t] of Object.entries(ref.weights)) renamed[n.replace(/^transformer\./, '')] = t;
    const T = 8;
    for (let l = 0; l < 2; l++)
      renamed[`h.${l}.attn.bias`] = { shape: [1, 1, T, T], values: Float64Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 1 : 0)) };
    writeTypedSafetensors(path.join(dir, 'model.safetensors'), renamed, 'F32');
    const model = await loadCausalLM(dir);
    try {
      const seqs = sequences(14);
      const got = batchLogits(model, seqs);
      const plain: ReferenceModel = { config: ref.config, weights: renamed };
      seqs.forEach((s, r) => expect(relError(got[r], flat(referenceLogits(plain, s.ids))), `row ${r}`).toBeLessThan(TOL));
    } finally {
      model.dispose();
    }
  });

  it('llama without the model. prefix', async () => {
    await useBackend('cpu');
    const { dir, ref } = tinyModel({ arch: 'llama', seed: 15, kvHeads: 2 });
    const renamed: Record<string, { shape: number[]; values: Float64Array }> = {};
    for (const [n, t] of Object.entries(ref.weights)) renamed[n.replace(/^model\./, '')] = t;
    writeTypedSafetensors(path.join(dir, 'model.safetensors'), renamed, 'F32');
    const model = await loadCausalLM(dir);
    try {
      const seqs = sequences(15);
      const got = batchLogits(model, seqs);
      seqs.forEach((s, r) => expect(relError(got[r], flat(referenceLogits(ref, s.ids))), `row ${r}`).toBeLessThan(TOL));
    } finally {
      model.dispose();
    }
  });
});

/** The PEFT adapter tensors the model exports, as the reference takes them. */
function referenceLora(model: CausalLM, scale: number): ReferenceLora {
  const modules: ReferenceLora['modules'] = {};
  for (const [name, t] of Object.entries(model.exportWeights('adapter'))) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(name);
    if (!m) throw new Error(`unexpected adapter tensor ${name}`);
    const entry = (modules[m[1]] ??= { a: { shape: [], values: new Float64Array() }, b: { shape: [], values: new Float64Array() } });
    entry[m[2] === 'A' ? 'a' : 'b'] = { shape: t.shape, values: Float64Array.from(t.data) };
  }
  return { scale, modules };
}

const LORA_CASES: { name: string; opts: Case['opts']; targets: string[] }[] = [
  { name: 'gpt2', opts: { arch: 'gpt2', seed: 21 }, targets: ['c_attn', 'c_proj', 'c_fc'] },
  { name: 'llama GQA', opts: { arch: 'llama', seed: 22, kvHeads: 2 }, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
  { name: 'qwen2', opts: { arch: 'qwen2', seed: 23, kvHeads: 2 }, targets: ['q_proj', 'v_proj', 'down_proj'] },
];

for (const backend of BACKENDS) {
  describe.skipIf(skipped(backend))(`LoRA against the reference (${backend})`, () => {
    for (const c of LORA_CASES) {
      it(`${c.name}: B = 0 gives exactly the base logits`, async () => {
        await useBackend(backend);
        const { dir } = tinyModel(c.opts);
        const seqs = sequences(5);
        const base = await loadCausalLM(dir);
        const lora = await loadCausalLM(dir, { lora: { rank: 2, alpha: 4, targetModules: c.targets }, seed: 3 });
        try {
          const want = batchLogits(base, seqs);
          const on = batchLogits(lora, seqs);
          const off = batchLogits(lora, seqs, false);
          seqs.forEach((_, r) => {
            expect(on[r]).toEqual(want[r]);
            expect(off[r]).toEqual(want[r]);
          });
          expect(logps(lora, seqs)).toEqual(logps(base, seqs));
        } finally {
          base.dispose();
          lora.dispose();
        }
      });

      it(`${c.name}: non-zero adapters match the reference; their gradients match central differences`, async () => {
        await useBackend(backend);
        const { dir, ref } = tinyModel(c.opts);
        const seqs = sequences(6);
        const rank = 2;
        const alpha = 4;
        const model = await loadCausalLM(dir, { lora: { rank, alpha, targetModules: c.targets }, seed: 4 });
        try {
          const vars = model.trainableVariables();
          const rng = new Rng(c.opts.seed ?? 0, 'lora-b');
          // B starts at 0 (PEFT's init), where ∂/∂A is 0; random B makes every adapter entry matter
          vars.forEach((v, i) => {
            if (i % 2 === 1)
              v.assign(
                tf.tensor(
                  Float32Array.from({ length: v.size }, () => 0.3 * rng.normal()),
                  v.shape,
                ),
              );
          });
          const lora = referenceLora(model, alpha / rank);
          expect(Object.keys(lora.modules).length).toBe(vars.length / 2);

          const got = batchLogits(model, seqs);
          seqs.forEach((s, r) => expect(relError(got[r], flat(referenceLogits(ref, s.ids, lora))), `row ${r}`).toBeLessThan(TOL));

          // objective: a mix of both rows' log-probs, so the padded row's gradient counts too
          const weights = [1, -0.7];
          const batch = packSequences(seqs, 0);
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(sequenceLogps(model, batch), tf.tensor1d(weights))) as tf.Scalar, vars);
          const objective = (l: ReferenceLora) =>
            seqs.reduce((acc, s, r) => acc + weights[r] * referenceSequenceLogp(ref, s.ids, s.promptLen, undefined, l), 0);

          // The i-th adapted module owns variables 2i (A as [in, r]) and 2i+1 (B as [r, out]); PEFT's tensors are
          // their transposes. Check a few entries of the first, a middle and the last module's A and B.
          const moduleNames = Object.keys(lora.modules);
          const picks = [0, Math.floor(moduleNames.length / 2), moduleNames.length - 1];
          let checked = 0;
          for (const mi of picks)
            for (const which of ['a', 'b'] as const) {
              const v = vars[2 * mi + (which === 'a' ? 0 : 1)];
              const g: ArrayLike<number> = grads[v.name].dataSync();
              const [rows, cols] = v.shape;
              for (const [i, j] of [
                [0, 0],
                [rows - 1, cols - 1],
                [Math.floor(rows / 2), cols > 1 ? 1 : 0],
              ]) {
                // engine [i, j] is PEFT [j, i]
                const peft = lora.modules[moduleNames[mi]][which];
                const k = j * peft.shape[1] + i;
                const h = 1e-5;
                const orig = peft.values[k];
                peft.values[k] = orig + h;
                const up = objective(lora);
                peft.values[k] = orig - h;
                const down = objective(lora);
                peft.values[k] = orig;
                const fd = (up - down) / (2 * h);
                const tg: number = g[i * cols + j];
                if (!(Math.abs(tg - fd) <= 2e-3 * Math.abs(fd) + 1e-4))
                  expect.fail(`${moduleNames[mi]} lora_${which.toUpperCase()}[${j},${i}]: tfjs gradient ${tg}, finite differences ${fd}`);
                checked++;
              }
            }
          expect(checked).toBe(18);
          tf.dispose(Object.values(grads));
        } finally {
          model.dispose();
        }
      });
    }
  });
}

const FULL_CASES: { name: string; opts: Case['opts']; pick: string[] }[] = [
  {
    // tied: the embedding's gradient comes from both the lookup and the head
    name: 'gpt2, tied head',
    opts: { arch: 'gpt2', seed: 31 },
    pick: ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.1.ln_2.bias'],
  },
  {
    name: 'llama GQA, untied head',
    opts: { arch: 'llama', seed: 32, kvHeads: 2 },
    pick: ['model.embed_tokens.weight', 'model.layers.0.self_attn.k_proj.weight', 'model.layers.1.input_layernorm.weight', 'lm_head.weight'],
  },
];

for (const backend of BACKENDS) {
  describe.skipIf(skipped(backend))(`full fine-tuning gradients against the reference (${backend})`, () => {
    for (const c of FULL_CASES) {
      it(`${c.name}: embedding, projection, norm and head gradients match central differences`, async () => {
        await useBackend(backend);
        const { dir, ref } = tinyModel(c.opts);
        const seqs = sequences(7);
        const model = await loadCausalLM(dir, { train: true });
        try {
          const vars = model.trainableVariables();
          // trainable variables come in the order of the exported weights; nn.Linear weights are kept as [in, out]
          const names = Object.keys(model.exportWeights('merged'));
          expect(names.length).toBe(vars.length);
          const weights = [0.6, 1];
          const batch = packSequences(seqs, 0);
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(sequenceLogps(model, batch), tf.tensor1d(weights))) as tf.Scalar, vars);
          const objective = () => seqs.reduce((acc, s, r) => acc + weights[r] * referenceSequenceLogp(ref, s.ids, s.promptLen), 0);
          const seen = seqs[0].ids[1];
          for (const name of c.pick) {
            const vi = names.indexOf(name);
            expect(vi, name).toBeGreaterThanOrEqual(0);
            const v = vars[vi];
            const g: ArrayLike<number> = grads[v.name].dataSync();
            const hf = ref.weights[name];
            const transposed = /_proj\.weight$|^lm_head\.weight$/.test(name);
            const cols = v.shape.length === 2 ? v.shape[1] : 1;
            // entries [row, col] of the engine's variable; for the embedding a row of a token the batch reads
            const entries: [number, number][] = /wte|embed_tokens/.test(name)
              ? [
                  [seen, 0],
                  [seen, cols - 1],
                  [VOCAB - 1, 2],
                ]
              : [
                  [0, 0],
                  [v.shape[0] - 1, cols - 1],
                ];
            for (const [i, j] of entries) {
              const k = v.shape.length === 1 ? i : transposed ? j * hf.shape[1] + i : i * hf.shape[1] + j;
              const h = 1e-5;
              const orig = hf.values[k];
              hf.values[k] = orig + h;
              const up = objective();
              hf.values[k] = orig - h;
              const down = objective();
              hf.values[k] = orig;
              const fd = (up - down) / (2 * h);
              const tg: number = g[v.shape.length === 1 ? i : i * cols + j];
              if (!(Math.abs(tg - fd) <= 2e-3 * Math.abs(fd) + 1e-4)) expect.fail(`${name}[${i},${j}]: tfjs gradient ${tg}, finite differences ${fd}`);
            }
          }
          tf.dispose(Object.values(grads));
        } finally {
          model.dispose();
        }
      });
    }
  });
}
