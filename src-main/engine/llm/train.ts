import os from 'node:os';
import * as tf from '../tf';
import { lossOfConfig } from '../losses/registry';
import { lossAndLogpGrads, standardMetrics, stackStandardMetrics, assertFiniteMetrics, STANDARD_METRIC_NAMES } from '../losses/diagnostics';
import type { LossDefinition, LossHyper } from '../losses/types';
import { RunCancelled, type RunSink } from '../sink';
import { Rng } from '../synthetic/rng';
import type { LlmConfig } from '@shared/llm-config';
import { formatParameterCount } from '@shared/llm-model';
import { loadCausalLM, type CausalLM } from './models';
import { sequenceLogps } from './logps';
import { packSequences } from './sequence-batch';
import { preparePairs, isKept, type TokenizedPairOk } from './prepare-data';
import { splitPairs } from './data/split';
import { AdamW, clipByGlobalNorm, ADAMW_DEFAULTS } from './adamw';
import { learningRateAt } from './schedule';
import { listCheckpoints, loadCheckpoint, saveCheckpoint } from './checkpoints';
import { estimateTrainingBytes, loraParameterCount, parameterCount, usesCheckpointing, WASM_HEAP_CAP, WASM_USABLE_BYTES } from './memory';
import { loadOptionsOf } from './parallel/load-options';
import { TrainingPeer, trainingThreads } from './parallel/main-side';
import { setNativeGemmThreads } from './native-gemm';

/** What the LLM trainer sends besides metric rows: log lines and stored artifacts (the reference log-probs). */
export interface LlmSink extends RunSink {
  log(text: string, level?: 'info' | 'warn' | 'error'): void;
  /** sends buffered rows now (before a checkpoint, so the stored curve is never far behind it) */
  flush?(): void;
  artifact(kind: string, name: string, content: string): void;
}

export interface LlmTrainInput {
  config: LlmConfig;
  /** the run's folder for checkpoints */
  runDir: string;
  /** continue from the newest checkpoint in runDir */
  resume: boolean;
  /** the stored reference log-probs (JSON of ReferenceLogps), reused on resume */
  reference?: string;
  /** resume from a checkpoint at or before this step (the last step whose rows the lab has) */
  resumeAtMostStep?: number;
  /** the script a second training thread starts from (the worker's own file); without it training uses one thread */
  peerEntry?: string;
}

/** Reference log-probs, computed once before training and stored with the run (artifact "reference-logps"). */
export interface ReferenceLogps {
  train: { chosen: number[]; rejected: number[] };
  eval: { chosen: number[]; rejected: number[] };
}

export const TRAIN_EXTRA_METRICS = ['grad_norm', 'learning_rate', 'epoch', 'perf/tokens_per_second', 'perf/step_seconds', 'perf/rss_mb'] as const;
export const EVAL_METRIC_NAMES = STANDARD_METRIC_NAMES.map((n) => `eval_${n}`);

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

/** The pair order of epoch e: a seeded permutation, so step s always sees the same pairs (resume needs no RNG state). */
class EpochOrder {
  private cache = new Map<number, Int32Array>();
  constructor(
    private readonly n: number,
    private readonly seed: number,
  ) {}
  at(g: number): number {
    const e = Math.floor(g / this.n);
    let p = this.cache.get(e);
    if (!p) {
      p = new Int32Array(this.n).map((_, i) => i);
      const rng = new Rng(this.seed, `llm-order-${e}`);
      for (let i = this.n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [p[i], p[j]] = [p[j], p[i]];
      }
      if (this.cache.size > 2) this.cache.clear();
      this.cache.set(e, p);
    }
    return p[g % this.n];
  }
}

function parseReference(text: string, nTrain: number, nEval: number): ReferenceLogps | null {
  try {
    const r = JSON.parse(text) as ReferenceLogps;
    if (r.train.chosen.length === nTrain && r.eval.chosen.length === nEval) return r;
  } catch {
    /* recomputed below */
  }
  return null;
}

/** Log-probs of some pairs without gradient, in batches: the reference pass and evaluation. */
function pairLogps(lm: CausalLM, pairs: TokenizedPairOk[], batchSize: number, padId: number, adapters: boolean): { chosen: number[]; rejected: number[] } {
  const chosen: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const part = pairs.slice(i, i + batchSize);
    const batch = packSequences([...part.map((p) => p.chosen), ...part.map((p) => p.rejected)], padId);
    const lp = sequenceLogps(lm, batch, { training: false, adapters });
    const v = lp.dataSync();
    lp.dispose();
    for (let k = 0; k < part.length; k++) {
      chosen.push(v[k]);
      rejected.push(v[part.length + k]);
    }
  }
  return { chosen, rejected };
}

/** Loss metrics of a set of pairs from their log-probs (no model gradient needed). */
function metricsOf(lossDef: LossDefinition, hyper: LossHyper, lw: number[], ll: number[], refW: number[], refL: number[]): Float32Array {
  return tf.tidy(() => {
    const inputs = { lw: tf.tensor1d(lw), ll: tf.tensor1d(ll), refW: tf.tensor1d(refW), refL: tf.tensor1d(refL) };
    const g = lossAndLogpGrads(lossDef, inputs, hyper);
    return stackStandardMetrics(standardMetrics({ ...inputs, perPair: g.perPair, gw: g.gw, gl: g.gl, beta: hyper.beta })).dataSync() as Float32Array;
  });
}

/**
 * Trains one LLM run: data and tokenizer, the model (LoRA or full), reference log-probs (computed once and stored),
 * then AdamW steps with warm-up and decay, gradient accumulation and clipping, evaluation every N steps and
 * checkpoints every N steps, at a cancel and at the end. A resumed run loads the newest checkpoint and takes the
 * same steps an uninterrupted run would: the pair order is a function of (seed, step), dropout is seeded by step.
 */
export async function trainLlm(input: LlmTrainInput, sink: LlmSink): Promise<{ final: Record<string, number> }> {
  const c = input.config;
  const t0 = Date.now();
  const prepared = await preparePairs({
    model: c.model,
    data: c.data,
    format: c.dataFormat,
    preference: c.preference,
    promptFormat: c.promptFormat,
    maxLength: c.maxLength,
    maxPairs: c.maxPairs,
  });
  const { data, items, tokenizer } = prepared;
  sink.log(`data: ${data.format} file, ${data.totalRows} rows, ${data.pairs.length} pairs, ${data.skipped.length} rows skipped`);
  for (const s of data.skipped.slice(0, 5)) sink.log(`skipped line ${s.line}${s.field ? ` (${s.field})` : ''}: ${s.reason}`, 'warn');
  if (data.skipped.length > 5) sink.log(`… and ${data.skipped.length - 5} more skipped rows`, 'warn');
  const kept = items.filter(isKept);
  const whyDropped = new Map<string, number>();
  for (const t of items) if (!isKept(t)) whyDropped.set(t.dropped, (whyDropped.get(t.dropped) ?? 0) + 1);
  for (const [why, n] of whyDropped) sink.log(`${n} pair(s) dropped: ${why}`, 'warn');
  const split = splitPairs(kept, c.evalFraction, c.seed);
  const train = split.train;
  const evalPairs = split.eval.slice(0, c.maxEvalPairs);
  if (train.length === 0) throw new Error(`${c.data}: no training pairs left (${kept.length} usable pairs, eval fraction ${c.evalFraction})`);
  sink.log(`prompt format: ${prepared.promptFormat}; ${train.length} training pairs, ${evalPairs.length} held-out pairs (seed ${c.seed})`);

  const lm = await loadCausalLM(c.model, loadOptionsOf(c));
  let peer: TrainingPeer | null = null;
  try {
    const vars = lm.trainableVariables();
    const trainable = vars.reduce((n, v) => n + v.size, 0);
    const total = parameterCount(lm.spec);
    const shape = { trainable, batchSize: c.batchSize, maxLength: c.maxLength };
    const checkpointing = usesCheckpointing(c.gradientCheckpointing, lm.spec, shape);
    const estimate = estimateTrainingBytes(lm.spec, { ...shape, checkpoint: checkpointing });
    sink.log(
      `model ${lm.spec.modelType}: ${formatParameterCount(total)} parameters, ${c.finetune === 'lora' ? `LoRA r${c.loraRank}: ` : ''}${formatParameterCount(trainable)} trainable; memory estimate ${mb(estimate)}${checkpointing ? ` with activation checkpointing (${c.gradientCheckpointing})` : ''}`,
    );
    if (tf.getBackend() === 'wasm' && estimate > WASM_USABLE_BYTES)
      throw new Error(
        `this run needs about ${mb(estimate)}, more than the ${mb(WASM_USABLE_BYTES)} a run may use of the WASM backend's ${mb(WASM_HEAP_CAP)} heap; use a shorter max length, a smaller batch, LoRA, activation checkpointing, or a native backend (tfjs-node)`,
      );
    void loraParameterCount;

    const threads = trainingThreads(c, input.peerEntry);
    // OpenBLAS's threads are the process's: one per training thread, or every core for a one-thread run.
    setNativeGemmThreads(threads === 2 ? 1 : os.availableParallelism());
    if (threads === 2) {
      // the peer loads its copy of the model while this thread computes the reference log-probs
      peer = TrainingPeer.start(input.peerEntry!, {
        config: c,
        backend: tf.getBackend(),
        rejected: train.map((p) => p.rejected),
        padId: tokenizer.padTokenId,
        trainableSize: trainable,
      });
    }

    const hyper: LossHyper = { beta: c.beta, clip: c.clip, labelSmoothing: c.labelSmoothing };
    const lossDef = lossOfConfig(c);
    const padId = tokenizer.padTokenId;

    // Reference log-probs: the base model (adapters off) or the initial weights, once.
    let reference = input.reference ? parseReference(input.reference, train.length, evalPairs.length) : null;
    if (!reference) {
      const tr = Date.now();
      reference = {
        train: pairLogps(lm, train, c.batchSize, padId, false),
        eval: pairLogps(lm, evalPairs, c.batchSize, padId, false),
      };
      sink.artifact('reference-logps', 'reference-logps.json', JSON.stringify(reference));
      sink.log(`reference log-probs of ${train.length + evalPairs.length} pairs computed in ${((Date.now() - tr) / 1000).toFixed(1)} s and stored`);
    } else sink.log('reference log-probs reused from the run');

    const named = new Map(vars.map((v, i) => [`param.${i}`, v] as const));
    const opt = new AdamW(named, { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay });
    let startStep = 0;
    if (input.resume) {
      const atMost = input.resumeAtMostStep ?? Infinity;
      const latest = listCheckpoints(input.runDir).find((ck) => ck.step <= atMost);
      if (latest) {
        const ck = loadCheckpoint(latest.dir);
        if (ck.params.length !== vars.length) throw new Error(`${latest.dir}: ${ck.params.length} tensors, the model has ${vars.length} trainable ones`);
        ck.params.forEach((p, i) => {
          if (p.shape.join(',') !== vars[i].shape.join(',')) throw new Error(`${latest.dir}: tensor ${i} has shape [${p.shape}], the model [${vars[i].shape}]`);
          vars[i].assign(tf.tensor(p.data, p.shape, 'float32'));
        });
        opt.importState(ck.optimizer);
        startStep = ck.step;
        sink.log(`resumed from ${latest.dir} (step ${ck.step} of ${c.steps})`);
      } else sink.log(`no checkpoint at or before step ${atMost} (the last stored step): starting from step 0`);
    }

    const order = new EpochOrder(train.length, c.seed);
    const perStep = c.batchSize * c.gradAccum;
    let lastCheckpoint = startStep;
    const checkpoint = (step: number) => {
      if (step === lastCheckpoint && listCheckpoints(input.runDir)[0]?.step === step) return;
      sink.flush?.();
      saveCheckpoint(input.runDir, {
        step,
        params: vars.map((v) => ({ shape: v.shape.slice(), data: v.dataSync() as Float32Array })),
        optimizer: opt.exportState(),
      });
      lastCheckpoint = step;
    };
    let lastTrain: Float32Array | null = null;
    let lastEval: Float32Array | null = null;
    const evaluate = (step: number) => {
      if (!evalPairs.length) return;
      const lp = pairLogps(lm, evalPairs, c.batchSize, padId, true);
      lastEval = metricsOf(lossDef, hyper, lp.chosen, lp.rejected, reference.eval.chosen, reference.eval.rejected);
      sink.metrics(0, step, EVAL_METRIC_NAMES, lastEval);
    };
    if (startStep === 0) evaluate(0);

    if (peer) {
      peer.waitReady();
      sink.log('training on two threads: chosen responses here, rejected ones on the second thread, gradients summed');
    }
    const names = [...STANDARD_METRIC_NAMES, ...TRAIN_EXTRA_METRICS];
    for (let step = startStep + 1; step <= c.steps; step++) {
      if (await sink.poll()) {
        checkpoint(step - 1);
        throw new RunCancelled();
      }
      const ts = Date.now();
      const acc = new Map<string, tf.Tensor>();
      const sums = new Float64Array(STANDARD_METRIC_NAMES.length);
      let tokens = 0;
      for (let m = 0; m < c.gradAccum; m++) {
        const base = ((step - 1) * c.gradAccum + m) * c.batchSize;
        const idx = Array.from({ length: c.batchSize }, (_, i) => order.at(base + i));
        const part = idx.map((i) => train[i]);
        const B = part.length;
        const dropoutSeed = c.seed * 1_000_003 + step * 64 + m;
        const refWv = idx.map((i) => reference.train.chosen[i]);
        const refLv = idx.map((i) => reference.train.rejected[i]);
        const refW = tf.tensor1d(refWv);
        const refL = tf.tensor1d(refLv);
        let lw: tf.Tensor | null = null;
        let ll: tf.Tensor | null = null;
        let value: tf.Scalar;
        let grads: tf.NamedTensorMap;
        if (peer) {
          // this thread: the chosen half; the peer: the rejected half, each with the other's log-probs as constants
          const gen = peer.post(idx, dropoutSeed, refWv, refLv, m === 0 ? vars : null);
          const batch = packSequences(
            part.map((p) => p.chosen),
            padId,
          );
          tokens +=
            batch.tokens +
            packSequences(
              part.map((p) => p.rejected),
              padId,
            ).tokens;
          ({ value, grads } = tf.variableGrads(() => {
            const w = sequenceLogps(lm, batch, { training: true, adapters: true, dropoutSeed, checkpoint: checkpointing });
            const l = tf.tensor1d(Array.from(peer!.exchange(gen, w.dataSync() as Float32Array)));
            lw = tf.keep(tf.clone(w));
            ll = tf.keep(tf.clone(l));
            return tf.div(tf.mean(lossDef.perPair({ lw: w, ll: l, refW, refL }, hyper)), c.gradAccum) as tf.Scalar;
          }, vars));
          const other = peer.grads(gen, vars);
          vars.forEach((v, i) => {
            const own = grads[v.name];
            grads[v.name] = own ? tf.add(own, other[i]) : other[i];
            if (own) tf.dispose([own, other[i]]);
          });
        } else {
          const batch = packSequences([...part.map((p) => p.chosen), ...part.map((p) => p.rejected)], padId);
          tokens += batch.tokens;
          ({ value, grads } = tf.variableGrads(() => {
            const lp = sequenceLogps(lm, batch, { training: true, adapters: true, dropoutSeed, checkpoint: checkpointing });
            const w = tf.slice(lp, [0], [B]);
            const l = tf.slice(lp, [B], [B]);
            lw = tf.keep(tf.clone(w));
            ll = tf.keep(tf.clone(l));
            return tf.div(tf.mean(lossDef.perPair({ lw: w, ll: l, refW, refL }, hyper)), c.gradAccum) as tf.Scalar;
          }, vars));
        }
        value.dispose();
        vars.forEach((v, i) => {
          const g = grads[v.name];
          if (!g) return;
          const key = `param.${i}`;
          const prev = acc.get(key);
          if (prev) {
            acc.set(key, tf.add(prev, g));
            prev.dispose();
            g.dispose();
          } else acc.set(key, g);
        });
        const mv = metricsOf(lossDef, hyper, Array.from(lw!.dataSync()), Array.from(ll!.dataSync()), Array.from(refW.dataSync()), Array.from(refL.dataSync()));
        for (let k = 0; k < mv.length; k++) sums[k] += mv[k] / c.gradAccum;
        tf.dispose([lw!, ll!, refW, refL]);
      }
      const gradNorm = clipByGlobalNorm(acc, c.maxGradNorm);
      const lr = learningRateAt(step, c);
      opt.apply(acc, lr);
      tf.dispose([...acc.values()]);
      const seconds = (Date.now() - ts) / 1000;
      const values = [...sums, gradNorm, lr, (step * perStep) / train.length, tokens / seconds, seconds, process.memoryUsage().rss / 1024 ** 2];
      assertFiniteMetrics(Object.fromEntries(names.map((n, i) => [n, values[i]])), { loss: lossDef.name === 'custom' ? lossDef.label : lossDef.name, step });
      lastTrain = Float32Array.from(values);
      sink.metrics(0, step, names, values);
      sink.progress(step, c.steps);
      if (c.evalEvery > 0 && step % c.evalEvery === 0) evaluate(step);
      if (c.checkpointEvery > 0 && step % c.checkpointEvery === 0) checkpoint(step);
    }
    if (!(c.evalEvery > 0 && c.steps % c.evalEvery === 0)) evaluate(c.steps);
    checkpoint(c.steps);
    sink.log(`trained ${c.steps - startStep} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const final: Record<string, number> = {};
    const lt = lastTrain as Float32Array | null;
    const le = lastEval as Float32Array | null;
    if (lt) names.forEach((n, i) => (final[n] = lt[i]));
    if (le) EVAL_METRIC_NAMES.forEach((n, i) => (final[n] = le[i]));
    return { final };
  } finally {
    await peer?.stop();
    lm.dispose();
  }
}
