/**
 * The synthetic experiment (synthetic.md § Procedure), for many runs at once.
 *
 * runSyntheticBatch() trains every run of a batch as ONE tensor program: parameters are stacked [R, ...], the
 * forward pass produces all runs' K×K log-prob tables with batched matmuls, each step's minibatch is read from
 * those tables with one gather, the losses are applied per contiguous group of runs sharing a loss (runs are
 * reordered internally so groups are contiguous), the pair gradients go back with one scatter and a hand-written
 * backward pass, and Adam updates the stacked tensors. Each step reads back one buffer for all metrics of all
 * runs.
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
 * klToRef, and a 'probs' snapshot). The metrics of step t are those of the minibatch at the parameters before
 * update t; the eval at step t is the policy after t updates. The warm-up logs warmup/loss and
 * warmup/grad_norm at its steps 1..refSteps (same logEvery rule).
 */
import * as tf from '../tf';
import { RunCancelled, type RunSink } from '../sink';
import { getLoss as registryGetLoss } from '../losses/registry';
import {
  assertFiniteMetrics,
  lossAndLogpGrads,
  NonFiniteMetricError,
  PARAM_BALANCE_METRIC_NAMES,
  STANDARD_METRIC_NAMES,
  stackStandardMetrics,
  standardMetrics,
  TRAINER_METRIC_NAMES,
} from '../losses/diagnostics';
import type { LossDefinition, LossHyper } from '../losses/types';
import { SyntheticConfigSchema, type SyntheticConfig } from '@shared/synthetic-config';
import { planKey } from './plan';
import { exportDataset, parseDatasetForConfig, type SyntheticDataset } from './dataset';
import { backward, forward, initParams, paramShapes, sumSquares, type ModelSpec } from './model';
import { Rng, STREAMS } from './rng';
import { generateDataset, utilityMatrix, type PolicyStats } from './task';

export interface SyntheticRunInput {
  config: SyntheticConfig;
  /** Train on this dataset instead of generating one from the config's seed (K and alpha must agree). */
  dataset?: SyntheticDataset;
}

export interface SyntheticResult {
  config: SyntheticConfig;
  /** the dataset the run trained on (generated or given), to be stored as an artifact */
  dataset: SyntheticDataset;
  /** eval metrics of the final policy */
  final: PolicyStats;
  /** the same four for πref (the warm-up result); klToRef = 0 */
  refFinal: PolicyStats;
  /** final π(y|x), probs[x][y] */
  probs: number[][];
  /** πref(y|x) */
  refProbs: number[][];
}

export interface SyntheticBatchOptions {
  /** Loss lookup (default: the registry's getLoss). Tests inject losses through it. */
  getLoss?: (name: string) => LossDefinition;
  /** Send the K×K 'probs' snapshot at each eval point (default true). */
  snapshots?: boolean;
  /** Share one warm-up between runs whose warm-up is identical (default true; results are unchanged). */
  shareWarmup?: boolean;
}

/** Names of the per-step training metrics, in the order they are sent. */
export const TRAIN_METRIC_NAMES: readonly string[] = [...STANDARD_METRIC_NAMES, ...TRAINER_METRIC_NAMES, ...PARAM_BALANCE_METRIC_NAMES];
/** Names of the eval metrics (synthetic.md § Metrics). */
export const EVAL_METRIC_NAMES = ['expectedUtility', 'pBest', 'oodMass', 'klToRef'] as const;
/** Names of the warm-up metrics. */
export const WARMUP_METRIC_NAMES: readonly string[] = ['warmup/loss', 'warmup/grad_norm'];

const ADAM_B1 = 0.9;
const ADAM_B2 = 0.999;
const ADAM_EPS = 1e-8;

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
  if (input.dataset) {
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

interface Group {
  start: number;
  count: number;
}

/** Contiguous runs of rows with the same key. */
function contiguousGroups<T>(rows: readonly Row[], key: (r: Row) => T): (Group & { row: Row })[] {
  const out: (Group & { row: Row })[] = [];
  rows.forEach((r, i) => {
    const last = out[out.length - 1];
    if (last && key(last.row) === key(r)) last.count++;
    else out.push({ start: i, count: 1, row: r });
  });
  return out;
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
}

function lossKey(r: Row): string {
  return `${r.loss.name}|${r.hyper.beta}|${r.hyper.clip}|${r.hyper.labelSmoothing}`;
}

function toMatrix(flat: ArrayLike<number>, offset: number, K: number): number[][] {
  const m: number[][] = new Array(K);
  for (let x = 0; x < K; x++) {
    const row = new Array<number>(K);
    for (let y = 0; y < K; y++) row[y] = flat[offset + x * K + y];
    m[x] = row;
  }
  return m;
}

/** Eval vectors [4, R] (EVAL_METRIC_NAMES order) of a forward pass. */
function evalVectors(fwd: { logp: tf.Tensor3D; probs: tf.Tensor3D }, refLogp: tf.Tensor3D, U: tf.Tensor, eye: tf.Tensor, maskT: tf.Tensor, K: number): tf.Tensor2D {
  const p = fwd.probs;
  const eu = tf.sum(tf.mul(p, U), [1, 2]);
  const best = tf.div(tf.sum(tf.mul(p, eye), [1, 2]), K);
  const ood = tf.div(tf.sum(tf.mul(p, maskT), [1, 2]), K);
  const kl = tf.div(tf.sum(tf.mul(p, tf.sub(fwd.logp, refLogp)), [1, 2]), K);
  return tf.stack([eu, best, ood, kl]) as tf.Tensor2D;
}

/**
 * Runs one phase (warm-up or training) of a stacked program and returns the final parameters (owned by the
 * caller). Throws RunCancelled or NonFiniteMetricError; all tensors it made are disposed either way.
 */
async function runPhase(a: PhaseArgs, evalConsts: { U: tf.Tensor; eye: tf.Tensor; maskT: tf.Tensor } | null): Promise<tf.Tensor[]> {
  const { spec, rows, steps, sink, progress } = a;
  const R = rows.length;
  const K = spec.K;
  const KK = K * K;
  const RKK = R * KK;
  const full = a.batchSize === 0;
  const B = full ? rows[0].prep.n : a.batchSize;
  const RB = R * B;
  const train = a.phase === 'train';
  const shapes = paramShapes(spec);
  const lossGroups = contiguousGroups(rows, lossKey);
  const betaGroups = contiguousGroups(rows, (r) => r.hyper.beta);
  const sameLr = rows.every((r) => r.lr === rows[0].lr);
  const rngs = full ? [] : rows.map((r) => new Rng(r.prep.config.seed, train ? STREAMS.train : STREAMS.warmup));

  // Indices: gather [w-cells of all rows, l-cells of all rows] (flat into [R·K·K]); scatter adds a third block
  // (chosen-only copy of the w-cells, offset by R·K·K) on steps that log the chosen/rejected split.
  const idx = new Int32Array(3 * RB);
  const fillIndices = () => {
    for (let r = 0; r < R; r++) {
      const { cellW, cellL, n } = rows[r].prep;
      const base = r * KK;
      const rng = rngs[r];
      for (let b = 0; b < B; b++) {
        const p = full ? b : rng.int(n);
        const o = r * B + b;
        idx[o] = base + cellW[p];
        idx[RB + o] = base + cellL[p];
        idx[2 * RB + o] = RKK + base + cellW[p];
      }
    }
  };
  // Reading cells: WASM's GatherV2 costs ~25× its GatherNd at this size; on 'cpu' it is the other way round.
  const useGatherNd = tf.getBackend() === 'wasm';
  const readCells = (flat: tf.Tensor, idx2d: tf.Tensor2D) => (useGatherNd ? tf.gatherND(flat, idx2d) : tf.gather(flat, idx2d.reshape([-1])));
  let fixedIdx: tf.Tensor2D | null = null;
  if (full) {
    fillIndices();
    fixedIdx = tf.tensor2d(idx, [3 * RB, 1], 'int32');
  }

  let params = a.params;
  let m = shapes.map(([p, q]) => tf.zeros([R, p, q]));
  let v = shapes.map(([p, q]) => tf.zeros([R, p, q]));
  const refFlat = a.refLogp.reshape([RKK]);

  const readEval = (data: Float32Array, statsOff: number, probsOff: number): EvalOut[] =>
    rows.map((_, r) => {
      const s = (j: number) => data[statsOff + j * R + r];
      return {
        stats: { expectedUtility: s(0), pBest: s(1), oodMass: s(2), klToRef: s(3) },
        probs: toMatrix(data, probsOff + r * KK, K),
      };
    });
  const emitEval = (step: number, evals: EvalOut[]) => {
    rows.forEach((row, r) => {
      const st = evals[r].stats;
      for (const o of row.report) {
        sink.metrics(o, step, EVAL_METRIC_NAMES, [st.expectedUtility, st.pBest, st.oodMass, st.klToRef]);
        if (a.snapshots) sink.snapshot(o, step, 'probs', evals[r].probs);
      }
    });
    a.onEval?.(step, evals);
  };

  try {
    for (let t = 1; t <= steps; t++) {
      if (await sink.poll()) throw new RunCancelled();
      const log = t % a.logEvery === 0 || t === steps;
      const split = train && log; // chosen/rejected parameter-gradient norms
      const evalStep = train && (t - 1) % a.evalEvery === 0 ? t - 1 : -1;
      if (!full) fillIndices();
      const S = split ? 2 : 1;

      const out = tf.tidy(() => {
        // one index upload per step: rows [0, 2RB) = w- then l-cells (gather and scatter block 0), rows
        // [2RB, 3RB) = w-cells again, offset into scatter block 1 (only on split steps)
        const scatterIdx = fixedIdx
          ? split
            ? fixedIdx
            : fixedIdx.slice([0, 0], [2 * RB, 1])
          : tf.tensor2d(idx.subarray(0, (S + 1) * RB), [(S + 1) * RB, 1], 'int32');
        const gatherIdx = split ? scatterIdx.slice([0, 0], [2 * RB, 1]) : scatterIdx;
        const fwd = forward(spec, params);
        const [lw, ll] = tf.split(readCells(fwd.logp.reshape([RKK]), gatherIdx).reshape([2 * R, B]), 2, 0);
        const [refW, refL] = tf.split(readCells(refFlat, gatherIdx).reshape([2 * R, B]), 2, 0);

        const perPairs: tf.Tensor[] = [];
        const gws: tf.Tensor[] = [];
        const gls: tf.Tensor[] = [];
        for (const g of lossGroups) {
          const sl = (x: tf.Tensor) => (lossGroups.length === 1 ? x : x.slice([g.start, 0], [g.count, B]));
          const res = lossAndLogpGrads(g.row.loss, { lw: sl(lw), ll: sl(ll), refW: sl(refW), refL: sl(refL) }, g.row.hyper);
          perPairs.push(res.perPair);
          gws.push(res.gw);
          gls.push(res.gl);
        }
        const cat = (xs: tf.Tensor[]) => (xs.length === 1 ? xs[0] : tf.concat(xs, 0));
        const perPair = cat(perPairs);
        const gw = cat(gws);
        const gl = cat(gls);

        // ∂(mean loss)/∂logπ for all cells: gw, gl are per-pair gradients of the sum, so scale by 1/B.
        // Block 0 = total (w then l, always in that order), block 1 = chosen only.
        const gwF = gw.reshape([RB]);
        const glF = gl.reshape([RB]);
        const updates = tf.mul(tf.concat(split ? [gwF, glF, gwF] : [gwF, glF]), 1 / B);
        const G = tf.scatterND(scatterIdx, updates, [S * RKK]).reshape([S, R, K, K]) as tf.Tensor4D;
        const grads = backward(spec, params, fwd, G);
        const total = grads.map((g, k) => (S === 1 ? g : g.slice([0, 0, 0, 0], [1, R, shapes[k][0], shapes[k][1]])).reshape([R, shapes[k][0], shapes[k][1]]));
        const sq = sumSquares(grads); // [S, R]
        const vectors: tf.Tensor[] = []; // each [R]

        let lossVec: tf.Tensor;
        let stdStack: tf.Tensor | null = null;
        if (train && log) {
          const parts = betaGroups.map((g) => {
            const sl = (x: tf.Tensor) => (betaGroups.length === 1 ? x : x.slice([g.start, 0], [g.count, B]));
            return stackStandardMetrics(
              standardMetrics({ lw: sl(lw), ll: sl(ll), refW: sl(refW), refL: sl(refL), perPair: sl(perPair), gw: sl(gw), gl: sl(gl), beta: g.row.hyper.beta }),
            );
          });
          stdStack = parts.length === 1 ? parts[0] : tf.concat(parts, 1); // [M, R]
          lossVec = stdStack.slice([0, 0], [1, R]).reshape([R]);
        } else {
          lossVec = tf.mean(perPair, -1);
        }
        const sqRows = S === 1 ? [sq.reshape([R])] : tf.unstack(sq);
        vectors.push(lossVec, tf.sqrt(sqRows[0]));
        if (split) {
          const rejected = sumSquares(grads.map((g) => tf.sub(g.slice([0, 0, 0, 0], [1, -1, -1, -1]), g.slice([1, 0, 0, 0], [1, -1, -1, -1])) as tf.Tensor4D));
          vectors.push(tf.sqrt(sqRows[1]), tf.sqrt(rejected.reshape([R])));
        }
        let evalStack: tf.Tensor | null = null;
        if (evalStep >= 0) {
          const ev = evalVectors(fwd, a.refLogp, evalConsts!.U, evalConsts!.eye, evalConsts!.maskT, K);
          evalStack = ev;
        }

        // Adam (PyTorch form), per-run learning rate
        const c1 = 1 / (1 - Math.pow(ADAM_B1, t));
        const c2 = 1 / Math.sqrt(1 - Math.pow(ADAM_B2, t));
        const lrT: tf.Tensor | number = sameLr ? rows[0].lr * c1 : tf.tensor3d(Float32Array.from(rows, (r) => r.lr * c1), [R, 1, 1]);
        const nm: tf.Tensor[] = [];
        const nv: tf.Tensor[] = [];
        const np: tf.Tensor[] = [];
        total.forEach((g, k) => {
          const mk = tf.add(tf.mul(m[k], ADAM_B1), tf.mul(g, 1 - ADAM_B1));
          const vk = tf.add(tf.mul(v[k], ADAM_B2), tf.mul(tf.square(g), 1 - ADAM_B2));
          const step = tf.div(tf.mul(mk, lrT), tf.add(tf.mul(tf.sqrt(vk), c2), ADAM_EPS));
          nm.push(mk);
          nv.push(vk);
          np.push(tf.sub(params[k], step));
        });

        const flat: tf.Tensor[] = [tf.stack(vectors).reshape([-1])];
        if (stdStack) flat.push(stdStack.reshape([-1]));
        if (evalStack) flat.push(evalStack.reshape([-1]), fwd.probs.reshape([-1]));
        const readback = flat.length === 1 ? flat[0] : tf.concat(flat);
        return { np, nm, nv, readback };
      });

      let committed = false;
      try {
        const data = out.readback.dataSync() as Float32Array;
        // data layout: vectors [V, R] | standard metrics [M, R] (train & log) | eval [4, R] + probs (eval steps)
        const V = split ? 4 : 2;
        const lossAt = (r: number) => data[r];
        const normAt = (r: number) => data[R + r];
        for (let r = 0; r < R; r++) {
          if (!Number.isFinite(lossAt(r)) || !Number.isFinite(normAt(r))) {
            const row = rows[r];
            const runLabel = `[run ${row.report[0]}]`;
            try {
              assertFiniteMetrics({ [`loss${runLabel}`]: lossAt(r), [`grad_norm${runLabel}`]: normAt(r) }, { loss: row.loss.name, step: t });
            } catch (err) {
              if (err instanceof NonFiniteMetricError && !train) err.message = `warm-up: ${err.message.replace(/ at step /, ' at warm-up step ')}`;
              throw err;
            }
          }
        }
        let off = V * R;
        const M = STANDARD_METRIC_NAMES.length;
        const stdOff = off;
        if (train && log) off += M * R;
        if (evalStep >= 0) emitEval(evalStep, readEval(data, off, off + 4 * R));
        if (log) {
          rows.forEach((row, r) => {
            if (train) {
              const trainValues = new Float64Array(TRAIN_METRIC_NAMES.length); // fresh: a sink may keep it
              for (let j = 0; j < M; j++) trainValues[j] = data[stdOff + j * R + r];
              trainValues[M] = normAt(r);
              trainValues[M + 1] = row.lr;
              trainValues[M + 2] = data[2 * R + r];
              trainValues[M + 3] = data[3 * R + r];
              for (const o of row.report) sink.metrics(o, t, TRAIN_METRIC_NAMES, trainValues);
            } else {
              for (const o of row.report) sink.metrics(o, t, WARMUP_METRIC_NAMES, [lossAt(r), normAt(r)]);
            }
          });
        }
        tf.dispose([params, m, v]);
        params = out.np;
        m = out.nm;
        v = out.nv;
        committed = true;
      } finally {
        out.readback.dispose();
        if (!committed) tf.dispose([out.np, out.nm, out.nv]);
      }
      progress.done++;
      sink.progress(progress.done, progress.total);
    }

    if (train) {
      // final eval: the policy after the last update
      const data = tf.tidy(() => {
        const fwd = forward(spec, params);
        const ev = evalVectors(fwd, a.refLogp, evalConsts!.U, evalConsts!.eye, evalConsts!.maskT, K);
        return tf.concat([ev.reshape([-1]), fwd.probs.reshape([-1])]);
      });
      const arr = data.dataSync() as Float32Array;
      data.dispose();
      emitEval(steps, readEval(arr, 0, 4 * R));
    }
    const result = params;
    params = [];
    return result;
  } finally {
    tf.dispose([params, m, v, refFlat]);
    if (fixedIdx) fixedIdx.dispose();
  }
}

/** Trains one plannable group (all runs share planKey, and under full batch the dataset size). */
async function runProgram(
  preps: Prepared[],
  sink: RunSink,
  opts: Required<SyntheticBatchOptions>,
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
      warmRows.push({ prep: p, report: [], loss: dpo, hyper: { beta: p.config.beta, clip: p.config.clip, labelSmoothing: p.config.labelSmoothing }, lr: p.config.lr });
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
    loss: opts.getLoss(p.config.loss),
    hyper: { beta: p.config.beta, clip: p.config.clip, labelSmoothing: p.config.labelSmoothing },
    lr: p.config.lr,
  }));
  const lossRank = new Map<string, number>();
  trainRows.forEach((r) => {
    const k = lossKey(r);
    if (!lossRank.has(k)) lossRank.set(k, lossRank.size);
  });
  const trainOrder = trainRows
    .map((_, i) => i)
    .sort((i, j) => trainRows[i].hyper.beta - trainRows[j].hyper.beta || lossRank.get(lossKey(trainRows[i]))! - lossRank.get(lossKey(trainRows[j]))! || i - j);
  const trainSorted = trainOrder.map((i) => trainRows[i]);
  // WASM (XNNPACK) takes a different matmul path for a batch of one, so a lone run would not reproduce its
  // numbers inside a batch bit for bit. A lone row gets a silent twin (a copy that reports nothing). The pure-JS
  // 'cpu' backend computes every batch entry the same way at any batch size, so it skips the extra work.
  if (tf.getBackend() !== 'cpu') {
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
    const eye = tf.tidy(() => tf.eye(K).reshape([1, K, K]));
    const maskBuf = new Float32Array(trainSorted.length * K * K);
    trainSorted.forEach((r, i) => {
      for (const [x, y] of r.prep.dataset.mask) maskBuf[i * K * K + x * K + y] = 1;
    });
    const maskT = tf.tensor3d(maskBuf, [trainSorted.length, K, K]);
    owned.push(Ut, eye, maskT);

    // 1. init, 2. warm-up (DPO against the initial model)
    const init = initParams(spec, warmSorted.map((r) => r.prep.config.seed));
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
      { U: Ut, eye, maskT },
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
  const opts: Required<SyntheticBatchOptions> = {
    getLoss: options.getLoss ?? registryGetLoss,
    snapshots: options.snapshots ?? true,
    shareWarmup: options.shareWarmup ?? true,
  };
  const preps = runs.map((r, i) => prepare(i, r));
  for (const p of preps) opts.getLoss(p.config.loss); // unknown loss: fail before any work
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
