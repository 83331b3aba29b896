/**
 * `npm run bench:llm`: tokens/s of the reference pass (no gradient) and of LoRA training steps (forward + backward
 * through sequence log-probs and the DPO loss), per backend, on a GPT-2-small-shaped model (12 layers, 768 wide,
 * vocabulary 50257, one pair of 512 tokens) and a small one (4 layers × 256 wide, 128 tokens), with each case's
 * peak RSS. Every case runs in a process of its own so its peak memory is its own. Backends: `wasm` (tfjs's own
 * kernels), `openblas` (WASM with OpenBLAS's sgemm for the matrix products, as LLM runs use where native/gemm is
 * built), `cpu` (pure JS). `train:` cases train as a run does (OpenBLAS where built); `train-wasm:` without it.
 * `npm run bench:llm -- openblas:small` runs one case.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable, type BenchRow } from './table';

interface Shape {
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  tokens: number;
}
const SHAPES: Record<string, Shape> = {
  small: { layers: 4, hidden: 256, heads: 4, vocab: 50257, tokens: 128 },
  'gpt2-small': { layers: 12, hidden: 768, heads: 12, vocab: 50257, tokens: 512 },
};
/** The pure-JS backend is ~25× slower than WASM on matmuls; the GPT-2-small case would take many minutes there. */
const CASES = [
  'wasm:small',
  'openblas:small',
  'cpu:small',
  'wasm:gpt2-small',
  'openblas:gpt2-small',
  'train-wasm:small:2',
  'train:small:1',
  'train:small:2',
  'train-wasm:gpt2-small:2',
  'train:gpt2-small:2',
];

/**
 * Writes the shape's model folder (GPT-2 layout, real GPT-2 tokenizer) once, in the parent process, so that a case's
 * peak RSS is what training it takes, not what generating half a gigabyte of random weights took.
 */
async function writeShapeModel(shapeName: string, root: string): Promise<string> {
  const shape = SHAPES[shapeName];
  const model = path.join(root, `model-${shapeName}`);
  if (fs.existsSync(path.join(model, 'config.json'))) return model;
  const { writeTinyModel } = await import('../support/tiny-models');
  const { writeGpt2Tokenizer } = await import('../support/tokenizers');
  writeTinyModel(model, {
    arch: 'gpt2',
    layers: shape.layers,
    hidden: shape.hidden,
    heads: shape.heads,
    vocabSize: shape.vocab,
    maxPositions: 1024,
    intermediate: 4 * shape.hidden,
    tokenizer: false,
    scale: 0.02,
  });
  writeGpt2Tokenizer(model);
  return model;
}

/**
 * Whole LoRA training steps through the trainer (`trainLlm`: batch of one pair, DPO, AdamW, clipping, metrics) on
 * one or two threads, with a real GPT-2 tokenizer on a generated preference file whose sequences fill the shape's
 * tokens; tokens/s is the trainer's own perf/tokens_per_second, the median over the steps after the first.
 */
async function runTrainCase(name: string, model: string): Promise<void> {
  const [, shapeName, threadsText] = name.split(':');
  const threads = Number(threadsText) as 1 | 2;
  const shape = SHAPES[shapeName];
  const { initBackend } = await import('../../src-main/engine/backend');
  const { attachNativeGemm } = await import('../../src-main/engine/llm/native-gemm');
  const { trainLlm } = await import('../../src-main/engine/llm/train');
  const { LlmConfigSchema } = await import('../../src-shared/llm-config');
  const { MemorySink } = await import('../../src-main/engine/sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-bench-train-'));
  try {
    // " word" is one GPT-2 token for these words, so a sequence of T words is about T tokens
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'big', 'red', 'house', 'in', 'sun'];
    const text = (n: number, k: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + k * 3) % words.length]).join(' ');
    const T = shape.tokens;
    const data = path.join(dir, 'pairs.jsonl');
    fs.writeFileSync(
      data,
      Array.from({ length: 8 }, (_, k) =>
        JSON.stringify({ prompt: text(T / 4, k), chosen: ' ' + text((3 * T) / 4, k + 1), rejected: ' ' + text((3 * T) / 4, k + 2) }),
      ).join('\n'),
    );
    // as the runner's worker does for LLM jobs (train-wasm: cases run with DPO_LAB_NATIVE_GEMM=0)
    const backend = attachNativeGemm(await initBackend('wasm')).label.includes('OpenBLAS') ? 'wasm+openblas' : 'wasm';
    const config = LlmConfigSchema.parse({
      model,
      data,
      loss: 'dpo',
      steps: 4,
      batchSize: 1,
      maxLength: T,
      evalFraction: 0,
      evalEvery: 0,
      checkpointEvery: 0,
      threads,
      promptFormat: 'raw',
    });
    const sink = new MemorySink();
    const logs: string[] = [];
    const t0 = performance.now();
    await trainLlm(
      { config, runDir: path.join(dir, 'run'), resume: false, peerEntry: fileURLToPath(new URL('../../src-main/runner/worker.ts', import.meta.url)) },
      Object.assign(sink, { log: (t: string) => logs.push(t), artifact: () => undefined }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const tps = sink.rows
      .filter((r) => r.name === 'perf/tokens_per_second' && r.step > 1)
      .map((r) => r.value)
      .sort((a, b) => a - b);
    const rss = process.resourceUsage().maxRSS * 1024;
    const label = `${shape.layers}×${shape.hidden}, V ${shape.vocab}, 1 pair of ${T} tokens, ${threads} thread${threads > 1 ? 's' : ''}`;
    const rows: BenchRow[] = [
      { name: `llm ${shapeName} trainer LoRA step`, backend, value: tps[Math.floor(tps.length / 2)], unit: 'tokens/s', note: label },
      {
        name: `llm ${shapeName} trainer peak RSS`,
        backend,
        value: rss / 1024 ** 2,
        unit: 'MB',
        note: `main thread's process, ${seconds.toFixed(0)} s in all`,
      },
    ];
    process.stdout.write(`ROWS ${JSON.stringify(rows)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function runCase(name: string, model: string): Promise<void> {
  const [backend, shapeName] = name.split(':') as ['wasm' | 'openblas' | 'cpu', string];
  const shape = SHAPES[shapeName];
  const { initBackend } = await import('../../src-main/engine/backend');
  const { loadCausalLM } = await import('../../src-main/engine/llm/models');
  const { sequenceLogps } = await import('../../src-main/engine/llm/logps');
  const { packSequences } = await import('../../src-main/engine/llm/sequence-batch');
  const { getLoss } = await import('../../src-main/engine/losses/registry');
  const { usesCheckpointing } = await import('../../src-main/engine/llm/memory');
  const { installNativeGemm } = await import('../../src-main/engine/llm/native-gemm');
  const tf = await import('../../src-main/engine/tf');
  {
    await initBackend(backend === 'openblas' ? 'wasm' : backend);
    if (backend === 'openblas') {
      const why = installNativeGemm();
      if (why) throw new Error(why);
    }
    const lm = await loadCausalLM(model, { lora: { rank: 8, alpha: 16 }, train: true });
    const T = shape.tokens;
    const seq = (k: number) => ({
      ids: Array.from({ length: T }, (_, t) => (t * 7919 + k * 104729) % shape.vocab),
      promptLen: T / 4,
      responseLen: (3 * T) / 4,
    });
    const batch = packSequences([seq(1), seq(2)], 0);
    const tokens = batch.tokens;
    const time = (f: () => void, reps: number) => {
      f(); // warm-up: kernel compilation, first allocations
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) f();
      return (performance.now() - t0) / 1000 / reps;
    };
    const reps = shapeName === 'small' ? 3 : 1;
    const refSeconds = time(() => {
      const lp = sequenceLogps(lm, batch, { adapters: false });
      lp.dataSync();
      lp.dispose();
    }, reps);
    const dpo = getLoss('dpo');
    // as a run with the default (auto) setting would: GPT-2 small at 2×512 checkpoints its activations
    const trainable = lm.trainableVariables().reduce((n, v) => n + v.size, 0);
    const checkpoint = usesCheckpointing('auto', lm.spec, { trainable, batchSize: 1, maxLength: T });
    const ref = tf.tensor1d([-100, -100]);
    const stepSeconds = time(() => {
      const { value, grads } = tf.variableGrads(() => {
        const lp = sequenceLogps(lm, batch, { training: true, checkpoint });
        const per = dpo.perPair(
          { lw: tf.slice(lp, [0], [1]), ll: tf.slice(lp, [1], [1]), refW: tf.slice(ref, [0], [1]), refL: tf.slice(ref, [1], [1]) },
          { beta: 0.1, clip: 0.5, labelSmoothing: 0 },
        );
        return tf.mean(per) as import('@tensorflow/tfjs-core').Scalar;
      }, lm.trainableVariables());
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    }, reps);
    const rss = process.resourceUsage().maxRSS * 1024;
    const label = `${shape.layers}×${shape.hidden}, V ${shape.vocab}, 2×${T} tokens`;
    const rows: BenchRow[] = [
      { name: `llm ${shapeName} reference pass`, backend, value: tokens / refSeconds, unit: 'tokens/s', note: label },
      {
        name: `llm ${shapeName} LoRA train step`,
        backend,
        value: tokens / stepSeconds,
        unit: 'tokens/s',
        note: `${label}, fwd+bwd, r 8 on c_attn${checkpoint ? ', activation checkpointing' : ''}`,
      },
      {
        name: `llm ${shapeName} peak RSS`,
        backend,
        value: rss / 1024 ** 2,
        unit: 'MB',
        note: 'whole process: model loaded, reference pass and training steps',
      },
    ];
    process.stdout.write(`ROWS ${JSON.stringify(rows)}\n`);
    lm.dispose();
  }
}

async function main(): Promise<void> {
  const caseArg = process.argv.indexOf('--case');
  if (caseArg > 0) {
    const c = process.argv[caseArg + 1];
    const model = process.argv[caseArg + 2];
    return c.startsWith('train') ? runTrainCase(c, model) : runCase(c, model);
  }
  const only = process.argv.slice(2);
  const unknown = only.filter((c) => !CASES.includes(c));
  if (unknown.length) {
    console.error(`bench:llm: unknown case ${unknown.map((c) => `"${c}"`).join(', ')}; the cases are ${CASES.join(', ')}`);
    process.exit(2);
  }
  const cases = only.length ? CASES.filter((c) => only.includes(c)) : CASES;
  const rows: BenchRow[] = [];
  const self = fileURLToPath(import.meta.url);
  const models = fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-bench-models-'));
  try {
    for (const c of cases) {
      const t0 = performance.now();
      const model = await writeShapeModel(c.split(':')[1], models);
      const env = c.startsWith('train-wasm:') ? { ...process.env, DPO_LAB_NATIVE_GEMM: '0' } : process.env;
      const res = spawnSync(process.execPath, ['--import', 'tsx', self, '--case', c, model], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env });
      const line = res.stdout.split('\n').find((l) => l.startsWith('ROWS '));
      // A case that cannot run here (GPT-2 small runs the 4 GB WASM heap out) is a row of the table, not the end of it.
      if (!line) rows.push({ name: `llm ${c}`, backend: c.split(':')[0], value: NaN, unit: '', note: `failed (exit ${res.status}); its error is above` });
      else rows.push(...(JSON.parse(line.slice(5)) as BenchRow[]));
      console.error(`bench llm ${c}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    fs.rmSync(models, { recursive: true, force: true });
  }
  printTable(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
