/**
 * The synthetic experiment (synthetic.md § Procedure), for many runs at once.
 *
 * runSyntheticBatch() trains every run of a batch as ONE tensor program: parameters are stacked [R, ...], the
 * forward pass produces all runs' K×K log-prob tables with batched matmuls, each step's minibatch is read from
 * those tables with one gather, the losses are applied per contiguous group of runs sharing a loss (runs are
 * reordered internally so groups are contiguous), the pair gradients go back with one scatter and a hand-written
 * backward pass, and Adam updates the stacked tensors. Each step reads back one buffer for all metrics of all
 * runs. The step itself is step.ts (sampleBatch, lossGradients, parameterGradients, adamStep and the read-back
 * layout); this file runs the phases and the procedure. reference.ts is a plain autodiff trainer for one run
 * that the tests hold this one to.
 *
 * Determinism: a run's numbers depend only on its own config (and dataset): its mask, data, initialisation and
 * minibatches come from its own seeded streams (rng.ts), and every tensor op is per run (no reduction across
 * the run axis), so a run alone and inside a batch give the same numbers (checked by the unit tests).
 *
 * Procedure per run: init (seeded) → `refSteps` of DPO against the initial model (the warm-up) → freeze the
 * result as πref → fresh Adam → `steps` of the run's loss against πref. Runs whose warm-up is identical (same
 * seed, data, model and optimiser settings; e.g. the six losses of one Table 1 cell) share one warm-up row.
 *
 * Metrics: training step t = 1..steps logs (every `logEvery` steps and at the last step) the standard metrics
 * of the loss registry, grad_norm, learning_rate and balance/param_grad_norm_{chosen,rejected}. The policy is
 * evaluated at steps 0 (= πref), evalEvery, 2·evalEvery, … and at `steps` (expectedUtility, pBest, oodMass,
 * klToRef, expectedUtilityNormalized, and a 'probs' snapshot). The metrics of step t are those of the minibatch at the parameters before
 * update t; the eval at step t is the policy after t updates. The warm-up logs warmup/loss and
 * warmup/grad_norm at its steps 1..refSteps (same logEvery rule).
 */
import * as tf from '../tf';
import { RunCancelled, type RunSink } from '../sink';
import { getLoss as registryGetLoss, lossOfConfig } from '../losses/registry';
import { assertFiniteMetrics, NonFiniteMetricError, PARAM_BALANCE_METRIC_NAMES, STANDARD_METRIC_NAMES, TRAINER_METRIC_NAMES } from '../losses/diagnostics';
import type { LossDefinition, LossHyper } from '../losses/types';
import { SyntheticConfigSchema, type SyntheticConfig } from '@shared/synthetic-config';
import { planKey } from './plan';
import { exportDataset, parseDatasetForConfig, type SyntheticDataset } from './dataset';
import { batchMatMulIsBatchInvariant, forward, initParams, type ModelSpec } from './model';
import { STREAMS } from './rng';
import {
  adamInit,
  adamStep,
  BatchSampler,
  lossGradients,
  lossGroupKey,
  parameterGradients,
  PhaseContext,
  ReadbackLayout,
  type AdamState,
  type StepKind,
} from './step';
import { generateDataset, normalizedUtilityMatrix, utilityMatrix, type PolicyStats } from './task';

export interface SyntheticRunInput {
  config: SyntheticConfig;
  /** Train on this dataset instead of generating one from the config's seed (K and alpha must agree). */
  dataset?: SyntheticDataset;
  /** `dataset` is what generateDataset(config) returns, made by the caller already: used as is, unchecked. */
  datasetIsGenerated?: boolean;
}

export interface SyntheticResult {
  config: SyntheticConfig;
  /** the dataset the run trained on (generated or given), to be stored as an artifact */
  dataset: SyntheticDataset;
  /** eval metrics of the final policy */
  final: PolicyStats;
  /** the same metrics for πref (the warm-up result); klToRef = 0 */
  refFinal: PolicyStats;
  /** final π(y|x), probs[x][y] */
  probs: number[][];
  /** πref(y|x) */
  refProbs: number[][];
}

export interface SyntheticBatchOptions {
  /** Built-in loss lookup (default: the registry's getLoss; custom losses compile their formula). Tests inject losses through it. */
  getLoss?: (name: string) => LossDefinition;
  /** Send the K×K 'probs' snapshot at each eval point (default true). */
  snapshots?: boolean;
  /** Share one warm-up between runs whose warm-up is identical (default true; results are unchanged). */
  shareWarmup?: boolean;
  /**
   * When given, wall-clock milliseconds are added per named step (sample, forward, loss, paramGrads, adam,
   * readback = packing and reading the buffer, host = finite check and sink calls). For benchmarks.
   */
  timings?: StepTimings;
}

/** Milliseconds per named step of the training loop, summed over every step of every phase. */
export type StepTimings = Record<'sample' | 'forward' | 'loss' | 'paramGrads' | 'adam' | 'readback' | 'host', number>;

export function emptyStepTimings(): StepTimings {
  return { sample: 0, forward: 0, loss: 0, paramGrads: 0, adam: 0, readback: 0, host: 0 };
}

/** Names of the per-step training metrics, in the order they are sent. */
export const TRAIN_METRIC_NAMES: readonly string[] = [...STANDARD_METRIC_NAMES, ...TRAINER_METRIC_NAMES, ...PARAM_BALANCE_METRIC_NAMES];
/** Names of the eval metrics (synthetic.md § Metrics). */
export const EVAL_METRIC_NAMES = ['expectedUtility', 'pBest', 'oodMass', 'klToRef', 'expectedUtilityNormalized'] as const;
/** Names of the warm-up metrics. */
export const WARMUP_METRIC_NAMES: readonly string[] = ['warmup/loss', 'warmup/grad_norm'];

interface Prepared {
  index: number;
  config: SyntheticConfig;
  dataset: SyntheticDataset;
  /** flat cell x·K + y of each pair's winner / loser */
  cellW: Int32Array;
  cellL: Int32Array;
  n: number;
  /** identity of the data, for sharing warm-ups */
  dataKey: string;
}

function prepare(index: number, input: SyntheticRunInput): Prepared {
  const config = SyntheticConfigSchema.parse(input.config);
  let dataset: SyntheticDataset;
  let dataKey: string;
  if (input.dataset && input.datasetIsGenerated) {
    dataset = input.dataset;
    dataKey = `gen:${config.mask}:${config.pairsPerPrompt}`;
  } else if (input.dataset) {
    dataset = parseDatasetForConfig(input.dataset, config, `runs[${index}].dataset`);
    dataKey = `file:${exportDataset(dataset)}`; // by content: each run of a launch may get its own copy
  } else {
    dataset = generateDataset(config);
    dataKey = `gen:${config.mask}:${config.pairsPerPrompt}`;
  }
  const n = dataset.pairs.length;
  const cellW = new Int32Array(n);
  const cellL = new Int32Array(n);
  dataset.pairs.forEach(([x, w, l], p) => {
    cellW[p] = x * config.K + w;
    cellL[p] = x * config.K + l;
  });
  return { index, config, dataset, cellW, cellL, n, dataKey };
}

/** One row of a stacked program. */
interface Row {
  prep: Prepared;
  /** indices (into the runSyntheticBatch input) that receive this row's metrics */
  report: number[];
  loss: LossDefinition;
  hyper: LossHyper;
  lr: number;
}

interface Progress {
  done: number;
  total: number;
}

interface EvalOut {
  stats: PolicyStats;
  probs: number[][];
}

interface PhaseArgs {
  phase: 'warmup' | 'train';
  spec: ModelSpec;
  rows: Row[];
  steps: number;
  /** 0 = full batch */
  batchSize: number;
  logEvery: number;
  evalEvery: number;
  /** initial parameters [R, ...]; the phase takes ownership */
  params: tf.Tensor[];
  /** frozen reference log-probs [R, K, K] (not owned) */
  refLogp: tf.Tensor3D;
  sink: RunSink;
  progress: Progress;
  snapshots: boolean;
  /** train phase: called with each eval (step, per-row results) */
  onEval?: (step: number, evals: EvalOut[]) => void;
  timings?: StepTimings;
}

interface EvalConsts {
  U: tf.Tensor;
  /** u(y|x)/Z_x per row, for expectedUtilityNormalized */
  Un: tf.Tensor;
  eye: tf.Tensor;
  maskT: tf.Tensor;
}

function toMatrix(flat: ArrayLike<number>, K: number): number[][] {
  const m: number[][] = new Array(K);
  for (let x = 0; x < K; x++) {
    const row = new Array<number>(K);
    for (let y = 0; y < K; y++) row[y] = flat[x * K + y];
    m[x] = row;
  }
  return m;
}

/** Eval vectors [5, R] (EVAL_METRIC_NAMES order) of a forward pass. */
function evalVectors(fwd: { logp: tf.Tensor3D; probs: tf.Tensor3D }, refLogp: tf.Tensor3D, c: EvalConsts, K: number): tf.Tensor2D {
  const p = fwd.probs;
  const eu = tf.sum(tf.mul(p, c.U), [1, 2]);
  const best = tf.div(tf.sum(tf.mul(p, c.eye), [1, 2]), K);
  const ood = tf.div(tf.sum(tf.mul(p, c.maskT), [1, 2]), K);
  const kl = tf.div(tf.sum(tf.mul(p, tf.sub(fwd.logp, refLogp)), [1, 2]), K);
  const eun = tf.sum(tf.mul(p, c.Un), [1, 2]);
  return tf.stack([eu, best, ood, kl, eun]) as tf.Tensor2D;
}

/**
 * Runs one phase (warm-up or training) of a stacked program and returns the final parameters (owned by the
 * caller). Each step: sample the batch → forward → loss gradients → parameter gradients → Adam, then one
 * read-back (layout: step.ts READBACK_BLOCKS), the finite check and the sink calls.
 * Throws RunCancelled or NonFiniteMetricError; all tensors it made are disposed either way.
 */
async function runPhase(a: PhaseArgs, evalConsts: EvalConsts | null): Promise<tf.Tensor[]> {
  const { spec, rows, steps, sink, progress } = a;
  const train = a.phase === 'train';
  const ctx = new PhaseContext(
    spec,
    rows.map((r) => ({ cellW: r.prep.cellW, cellL: r.prep.cellL, n: r.prep.n, seed: r.prep.config.seed, loss: r.loss, hyper: r.hyper, lr: r.lr })),
    a.batchSize,
  );
  const { R, K } = ctx;
  const sampler = new BatchSampler(ctx, a.refLogp.dataSync() as Float32Array, train ? STREAMS.train : STREAMS.warmup);
  let state: AdamState = { params: a.params, ...adamInit(ctx) };

  const emitEval = (step: number, data: Float32Array, layout: ReadbackLayout) => {
    const evals: EvalOut[] = rows.map((row, r) => {
      const values = EVAL_METRIC_NAMES.map((_, j) => layout.get(data, 'eval', r, j));
      const [expectedUtility, pBest, oodMass, klToRef, expectedUtilityNormalized] = values;
      const e: EvalOut = { stats: { expectedUtility, expectedUtilityNormalized, pBest, oodMass, klToRef }, probs: toMatrix(layout.probs(data, r), K) };
      for (const o of row.report) {
        sink.metrics(o, step, EVAL_METRIC_NAMES, values);
        if (a.snapshots) sink.snapshot(o, step, 'probs', e.probs);
      }
      return e;
    });
    a.onEval?.(step, evals);
  };

  const checkFinite = (data: Float32Array, layout: ReadbackLayout, t: number) => {
    for (let r = 0; r < R; r++) {
      const loss = layout.get(data, 'loss', r);
      const norm = layout.get(data, 'gradNorm', r);
      if (Number.isFinite(loss) && Number.isFinite(norm)) continue;
      const row = rows[r];
      const runLabel = `[run ${row.report[0]}]`;
      try {
        assertFiniteMetrics(
          { [`loss${runLabel}`]: loss, [`grad_norm${runLabel}`]: norm },
          { loss: row.loss.name === 'custom' ? row.loss.label : row.loss.name, step: t },
        );
      } catch (err) {
        if (err instanceof NonFiniteMetricError && !train) err.message = `warm-up: ${err.message.replace(/ at step /, ' at warm-up step ')}`;
        throw err;
      }
    }
  };

  const emitTrainLog = (data: Float32Array, layout: ReadbackLayout, t: number) => {
    const M = STANDARD_METRIC_NAMES.length;
    rows.forEach((row, r) => {
      if (!train) {
        for (const o of row.report) sink.metrics(o, t, WARMUP_METRIC_NAMES, [layout.get(data, 'loss', r), layout.get(data, 'gradNorm', r)]);
        return;
      }
      const values = new Float64Array(TRAIN_METRIC_NAMES.length); // fresh: a sink may keep it
      for (let j = 0; j < M; j++) values[j] = layout.get(data, 'metrics', r, j);
      values[M] = layout.get(data, 'gradNorm', r);
      values[M + 1] = row.lr;
      values[M + 2] = layout.get(data, 'chosenNorm', r);
      values[M + 3] = layout.get(data, 'rejectedNorm', r);
      for (const o of row.report) sink.metrics(o, t, TRAIN_METRIC_NAMES, values);
    });
  };

  try {
    for (let t = 1; t <= steps; t++) {
      if (await sink.poll()) throw new RunCancelled();
      const log = t % a.logEvery === 0 || t === steps;
      // the metrics of step t are those of its minibatch at the parameters before update t; the eval at
      // step t − 1 is the policy those parameters give
      const kind: StepKind = { metrics: train && log, split: train && log, eval: train && (t - 1) % a.evalEvery === 0 };
      const layout = new ReadbackLayout(R, K, kind);

      const tm = a.timings;
      let t0 = tm ? performance.now() : 0;
      const lap = (name: keyof StepTimings) => {
        if (!tm) return;
        const now = performance.now();
        tm[name] += now - t0;
        t0 = now;
      };
      const out = tf.tidy(() => {
        const batch = sampler.next(kind.split);
        lap('sample');
        const fwd = forward(spec, state.params);
        lap('forward');
        const pairs = lossGradients(ctx, fwd.logp, batch, kind.metrics);
        lap('loss');
        const grads = parameterGradients(ctx, state.params, fwd, pairs, batch, kind.split);
        lap('paramGrads');
        const next = adamStep(ctx, state, grads.total, t);
        lap('adam');
        const readback = layout.pack({
          loss: tf.mean(pairs.perPair, -1),
          gradNorm: grads.norm,
          chosenNorm: grads.chosenNorm ?? undefined,
          rejectedNorm: grads.rejectedNorm ?? undefined,
          metrics: pairs.metrics ?? undefined,
          eval: kind.eval ? evalVectors(fwd, a.refLogp, evalConsts!, K) : undefined,
          probs: kind.eval ? fwd.probs : undefined,
        });
        return { next, readback };
      });

      let committed = false;
      try {
        const data = out.readback.dataSync() as Float32Array;
        lap('readback');
        checkFinite(data, layout, t);
        if (kind.eval) emitEval(t - 1, data, layout);
        if (log) emitTrainLog(data, layout, t);
        lap('host');
        tf.dispose([state.params, state.m, state.v]);
        state = out.next;
        committed = true;
      } finally {
        out.readback.dispose();
        if (!committed) tf.dispose([out.next.params, out.next.m, out.next.v]);
      }
      progress.done++;
      sink.progress(progress.done, progress.total);
    }

    if (train) {
      // final eval: the policy after the last update
      const layout = new ReadbackLayout(R, K, { metrics: false, split: false, eval: true });
      const buf = tf.tidy(() => {
        const fwd = forward(spec, state.params);
        // the always-present blocks are not needed here: zeros keep the layout
        const zero = tf.zeros([R]);
        return layout.pack({ loss: zero, gradNorm: zero, eval: evalVectors(fwd, a.refLogp, evalConsts!, K), probs: fwd.probs });
      });
      const data = buf.dataSync() as Float32Array;
      buf.dispose();
      emitEval(steps, data, layout);
    }
    const result = state.params;
    state = { ...state, params: [] };
    return result;
  } finally {
    tf.dispose([state.params, state.m, state.v]);
    sampler.dispose();
  }
}

/** Trains one plannable group (all runs share planKey, and under full batch the dataset size). */
async function runProgram(
  preps: Prepared[],
  sink: RunSink,
  opts: Required<Omit<SyntheticBatchOptions, 'timings'>> & Pick<SyntheticBatchOptions, 'timings'>,
  progress: Progress,
): Promise<Map<number, SyntheticResult>> {
  const c0 = preps[0].config;
  const spec: ModelSpec = { kind: c0.model, K: c0.K, hidden: c0.hidden };
  const K = c0.K;
  const dpo = opts.getLoss('dpo');

  // Warm-up rows: one per distinct warm-up; ordered by β so metric groups are contiguous.
  const warmKeyOf = (p: Prepared) =>
    opts.shareWarmup
      ? JSON.stringify([p.dataKey, p.config.seed, p.config.alpha, p.config.lr, p.config.beta, p.config.clip, p.config.labelSmoothing])
      : String(p.index);
  const warmRows: Row[] = [];
  const warmRowOf = new Map<string, number>();
  for (const p of preps) {
    const key = warmKeyOf(p);
    let r = warmRowOf.get(key);
    if (r === undefined) {
      r = warmRows.length;
      warmRowOf.set(key, r);
      warmRows.push({
        prep: p,
        report: [],
        loss: dpo,
        hyper: { beta: p.config.beta, clip: p.config.clip, labelSmoothing: p.config.labelSmoothing },
        lr: p.config.lr,
      });
    }
    warmRows[r].report.push(p.index);
  }
  const warmOrder = warmRows.map((_, i) => i).sort((i, j) => warmRows[i].hyper.beta - warmRows[j].hyper.beta || i - j);
  const warmSorted = warmOrder.map((i) => warmRows[i]);
  const warmPos = new Map<string, number>(); // warm key → row index in warmSorted
  warmOrder.forEach((orig, pos) => warmPos.set(warmKeyOf(warmRows[orig].prep), pos));

  // Training rows: one per run, ordered by (β, loss, clip, label smoothing) so loss groups are contiguous.
  const trainRows: Row[] = preps.map((p) => ({
    prep: p,
    report: [p.index],
    loss: lossOfConfig(p.config, opts.getLoss),
    hyper: { beta: p.config.beta, clip: p.config.clip, labelSmoothing: p.config.labelSmoothing },
    lr: p.config.lr,
  }));
  const lossRank = new Map<string, number>();
  trainRows.forEach((r) => {
    const k = lossGroupKey(r);
    if (!lossRank.has(k)) lossRank.set(k, lossRank.size);
  });
  const trainOrder = trainRows
    .map((_, i) => i)
    .sort(
      (i, j) =>
        trainRows[i].hyper.beta - trainRows[j].hyper.beta || lossRank.get(lossGroupKey(trainRows[i]))! - lossRank.get(lossGroupKey(trainRows[j]))! || i - j,
    );
  const trainSorted = trainOrder.map((i) => trainRows[i]);
  // tf.matMul on WASM (XNNPACK) and native backends takes a different path for a batch of one, so a lone run
  // would not reproduce its numbers inside a batch bit for bit: a lone row then gets a silent twin (a copy that
  // reports nothing). The pure-JS 'cpu' backend and the lab's own WASM matmul compute every batch entry the
  // same way at any batch size, so they skip the extra work.
  if (!batchMatMulIsBatchInvariant(spec)) {
    if (warmSorted.length === 1) warmSorted.push({ ...warmSorted[0], report: [] });
    if (trainSorted.length === 1) trainSorted.push({ ...trainSorted[0], report: [] });
  }

  const results = new Map<number, SyntheticResult>();
  const refEval = new Map<number, EvalOut>();
  const owned: tf.Tensor[] = [];
  try {
    // constants for evals
    const Ut = tf.tensor3d(
      trainSorted.flatMap((r) => utilityMatrix(K, r.prep.config.alpha).flat()),
      [trainSorted.length, K, K],
    );
    const Unt = tf.tensor3d(
      trainSorted.flatMap((r) => normalizedUtilityMatrix(K, r.prep.config.alpha).flat()),
      [trainSorted.length, K, K],
    );
    const eye = tf.tidy(() => tf.eye(K).reshape([1, K, K]));
    const maskBuf = new Float32Array(trainSorted.length * K * K);
    trainSorted.forEach((r, i) => {
      for (const [x, y] of r.prep.dataset.mask) maskBuf[i * K * K + x * K + y] = 1;
    });
    const maskT = tf.tensor3d(maskBuf, [trainSorted.length, K, K]);
    owned.push(Ut, Unt, eye, maskT);

    // 1. init, 2. warm-up (DPO against the initial model)
    const init = initParams(
      spec,
      warmSorted.map((r) => r.prep.config.seed),
    );
    const initLogp = tf.tidy(() => forward(spec, init).logp);
    owned.push(initLogp);
    const warmParams = await runPhase(
      {
        phase: 'warmup',
        spec,
        rows: warmSorted,
        steps: c0.refSteps,
        batchSize: c0.batchSize,
        logEvery: c0.logEvery,
        evalEvery: c0.evalEvery,
        params: init,
        refLogp: initLogp,
        sink,
        progress,
        snapshots: false,
        timings: opts.timings,
      },
      null,
    );
    // 3. πref = warm-up result, one copy per training row
    const gatherRows = trainSorted.map((r) => warmPos.get(warmKeyOf(r.prep))!);
    const identity = gatherRows.length === warmSorted.length && gatherRows.every((g, i) => g === i);
    let trainParams: tf.Tensor[];
    if (identity) trainParams = warmParams;
    else {
      trainParams = tf.tidy(() => {
        const gi = tf.tensor1d(gatherRows, 'int32');
        return warmParams.map((p) => tf.gather(p, gi));
      });
      tf.dispose(warmParams);
    }
    const refLogp = tf.tidy(() => forward(spec, trainParams).logp);
    owned.push(refLogp);
    const finalParams = await runPhase(
      {
        phase: 'train',
        spec,
        rows: trainSorted,
        steps: c0.steps,
        batchSize: c0.batchSize,
        logEvery: c0.logEvery,
        evalEvery: c0.evalEvery,
        params: trainParams,
        refLogp,
        sink,
        progress,
        snapshots: opts.snapshots,
        timings: opts.timings,
        onEval: (step, evals) => {
          evals.forEach((e, r) => {
            if (trainSorted[r].report.length === 0) return; // a silent twin
            const p = trainSorted[r].prep;
            if (step === 0) refEval.set(p.index, e);
            if (step === c0.steps) {
              const ref = refEval.get(p.index)!;
              results.set(p.index, { config: p.config, dataset: p.dataset, final: e.stats, refFinal: ref.stats, probs: e.probs, refProbs: ref.probs });
            }
          });
        },
      },
      { U: Ut, Un: Unt, eye, maskT },
    );
    tf.dispose(finalParams);
  } finally {
    tf.dispose(owned);
  }
  return results;
}

/**
 * Trains the given runs and returns one result per run, in input order. Runs that cannot share a program
 * (planKey differs, or full-batch datasets of different sizes) are trained one group after another.
 * Throws RunCancelled when sink.poll() says so, NonFiniteMetricError (naming the loss, step and run) when a
 * loss or gradient stops being finite, and DatasetError for an unusable dataset.
 */
export async function runSyntheticBatch(runs: readonly SyntheticRunInput[], sink: RunSink, options: SyntheticBatchOptions = {}): Promise<SyntheticResult[]> {
  const opts = {
    getLoss: options.getLoss ?? registryGetLoss,
    snapshots: options.snapshots ?? true,
    shareWarmup: options.shareWarmup ?? true,
    timings: options.timings,
  };
  const preps = runs.map((r, i) => prepare(i, r));
  for (const p of preps) lossOfConfig(p.config, opts.getLoss); // unknown loss or bad formula: fail before any work
  const programs = new Map<string, Prepared[]>();
  for (const p of preps) {
    const key = planKey(p.config) + (p.config.batchSize === 0 ? `|n=${p.n}` : '');
    const list = programs.get(key) ?? [];
    list.push(p);
    programs.set(key, list);
  }
  const progress: Progress = {
    done: 0,
    total: [...programs.values()].reduce((s, ps) => s + ps[0].config.refSteps + ps[0].config.steps, 0),
  };
  sink.progress(0, progress.total);
  const out = new Array<SyntheticResult>(runs.length);
  for (const ps of programs.values()) {
    const res = await runProgram(ps, sink, opts, progress);
    for (const [i, r] of res) out[i] = r;
  }
  return out;
}
