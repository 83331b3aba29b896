/**
 * One optimiser step of a stacked synthetic program (R runs side by side, see experiment.ts), as named steps:
 *
 *   BatchSampler.next   sample the batch: which cells of the K×K tables each run's minibatch reads (plain JS)
 *   (model.ts forward)  the policy's log-probs for all runs
 *   lossGradients       per-pair loss and ∂L/∂log π by tfjs autodiff through the registry's loss, per loss group,
 *                       plus the standard metrics on log steps
 *   parameterGradients  ∂(mean loss)/∂θ through the model's hand-written backward; on split steps also the
 *                       chosen-only and rejected-only parts, for their norms
 *   adamStep            Adam (PyTorch form) with a per-run learning rate
 *
 * and the read-back layout: everything the host needs from a step (losses, norms, metrics, evals, the K×K
 * policy) leaves the device in ONE Float32 buffer whose blocks are declared in READBACK_BLOCKS.
 * Every op is per run (nothing reduces across the run axis), so a run's numbers do not depend on its batch.
 */
import * as tf from '../tf';
import { lossAndLogpGrads, STANDARD_METRIC_NAMES, stackStandardMetrics, standardMetrics } from '../losses/diagnostics';
import type { LossDefinition, LossHyper } from '../losses/types';
import { backward, paramShapes, type ForwardResult, type ModelSpec } from './model';
import { Rng } from './rng';
import { adamUpdate, rowSumSquares, splitRows } from './wasm-kernels';

/** What a step needs to know about one row (run) of the program. */
export interface StepRow {
  /** flat cell x·K + y of each dataset pair's winner / loser */
  cellW: Int32Array;
  cellL: Int32Array;
  /** dataset size */
  n: number;
  seed: number;
  loss: LossDefinition;
  hyper: LossHyper;
  lr: number;
}

/** A contiguous block of rows that share a loss (and its hyper-parameters). */
export interface LossGroup {
  start: number;
  count: number;
  loss: LossDefinition;
  hyper: LossHyper;
}

/** A contiguous block of rows that share β (the standard metrics take one β). */
export interface BetaGroup {
  start: number;
  count: number;
  beta: number;
}

/** What changes from step to step: which extras this step computes. */
export interface StepKind {
  /** the standard metrics (training log steps) */
  metrics: boolean;
  /** the chosen/rejected parameter-gradient norms (training log steps) */
  split: boolean;
  /** evaluate the policy the step starts from (eval steps) */
  eval: boolean;
}

/** Rows that are contiguous in `key`, in order. Rows must already be sorted so equal keys are adjacent. */
function contiguous<T>(rows: readonly StepRow[], key: (r: StepRow) => T): { start: number; count: number; row: StepRow }[] {
  const out: { start: number; count: number; row: StepRow }[] = [];
  rows.forEach((r, i) => {
    const last = out[out.length - 1];
    if (last && key(last.row) === key(r)) last.count++;
    else out.push({ start: i, count: 1, row: r });
  });
  return out;
}

/** Rows with equal keys share a loss group (same loss and hyper-parameters); a program sorts its rows by it. */
export const lossGroupKey = (r: Pick<StepRow, 'loss' | 'hyper'>) =>
  JSON.stringify([r.loss.name, r.loss.formula ?? null, r.hyper.beta, r.hyper.clip, r.hyper.labelSmoothing]);

/** The fixed facts of one phase of a program. */
export class PhaseContext {
  readonly R: number;
  readonly K: number;
  readonly KK: number;
  /** pairs per step and run */
  readonly B: number;
  /** every step uses the whole dataset (batchSize 0) */
  readonly full: boolean;
  readonly lossGroups: LossGroup[];
  readonly betaGroups: BetaGroup[];
  readonly sameLr: boolean;
  readonly shapes: [number, number][];

  constructor(
    readonly spec: ModelSpec,
    readonly rows: readonly StepRow[],
    batchSize: number,
  ) {
    this.R = rows.length;
    this.K = spec.K;
    this.KK = spec.K * spec.K;
    this.full = batchSize === 0;
    this.B = this.full ? rows[0].n : batchSize;
    this.lossGroups = contiguous(rows, lossGroupKey).map((g) => ({ start: g.start, count: g.count, loss: g.row.loss, hyper: g.row.hyper }));
    this.betaGroups = contiguous(rows, (r) => r.hyper.beta).map((g) => ({ start: g.start, count: g.count, beta: g.row.hyper.beta }));
    this.sameLr = rows.every((r) => r.lr === rows[0].lr);
    this.shapes = paramShapes(spec);
  }
}

// ---- step 1: sample the minibatch ------------------------------------------------------------------------

/** A step's minibatch, as indices into the flat [R·K·K] tables (rows of a [n, 1] int32 tensor). */
export interface Batch {
  /** [2·R·B, 1]: the winner cells of every row (row-major), then the loser cells */
  cells: tf.Tensor2D;
  /** [R·B, 1]: the winner cells alone (split steps only: the chosen-only gradient) */
  winners: tf.Tensor2D | null;
  /** log πref of `cells`, [2·R·B] (πref is frozen, so it is looked up on the host) */
  ref: tf.Tensor1D;
}

/**
 * Draws each row's minibatch from its own seeded stream (B pairs uniformly with replacement; the whole dataset
 * in order under full batch) and uploads the cell indices and their πref values.
 */
export class BatchSampler {
  private readonly rngs: Rng[];
  private readonly idx: Int32Array;
  private readonly refBuf: Float32Array;
  private fixed: Batch | null = null;

  /**
   * @param refLogp the frozen reference log-probs, [R·K·K] on the host
   * @param stream the rng stream of this phase (STREAMS.warmup / STREAMS.train)
   */
  constructor(
    private readonly ctx: PhaseContext,
    private readonly refLogp: Float32Array,
    stream: string,
  ) {
    const RB = ctx.R * ctx.B;
    this.idx = new Int32Array(2 * RB);
    this.refBuf = new Float32Array(2 * RB);
    this.rngs = ctx.full ? [] : ctx.rows.map((r) => new Rng(r.seed, stream));
    if (ctx.full) {
      this.fill();
      this.fixed = this.upload(true);
    }
  }

  private fill(): void {
    const { R, B, KK, full } = this.ctx;
    const RB = R * B;
    for (let r = 0; r < R; r++) {
      const { cellW, cellL, n } = this.ctx.rows[r];
      const base = r * KK;
      const rng = this.rngs[r];
      for (let b = 0; b < B; b++) {
        const p = full ? b : rng.int(n);
        const o = r * B + b;
        const w = base + cellW[p];
        const l = base + cellL[p];
        this.idx[o] = w;
        this.idx[RB + o] = l;
        this.refBuf[o] = this.refLogp[w];
        this.refBuf[RB + o] = this.refLogp[l];
      }
    }
  }

  private upload(split: boolean): Batch {
    const RB = this.ctx.R * this.ctx.B;
    return {
      cells: tf.tensor2d(this.idx, [2 * RB, 1], 'int32'),
      winners: split ? tf.tensor2d(this.idx.subarray(0, RB), [RB, 1], 'int32') : null,
      ref: tf.tensor1d(this.refBuf),
    };
  }

  /** The next step's batch. Call inside the step's tidy scope (the full-batch tensors are kept across steps). */
  next(split: boolean): Batch {
    if (this.fixed) return { ...this.fixed, winners: split ? this.fixed.winners : null };
    this.fill();
    return this.upload(split);
  }

  dispose(): void {
    if (this.fixed) tf.dispose([this.fixed.cells, this.fixed.winners!, this.fixed.ref]);
    this.fixed = null;
  }
}

// ---- step 2: loss gradients --------------------------------------------------------------------------------

/** Per-pair results of a step, for all rows. */
export interface PairGradients {
  /** per-pair loss, [R, B] */
  perPair: tf.Tensor2D;
  /** ∂(Σ loss)/∂lw and ∂(Σ loss)/∂ll per pair, one [count, B] tensor per loss group */
  gw: tf.Tensor[];
  gl: tf.Tensor[];
  /** standard metrics [M, R] in STANDARD_METRIC_NAMES order (only when asked for) */
  metrics: tf.Tensor2D | null;
}

// Reading cells: WASM's GatherV2 costs ~25× its GatherNd at this size; on 'cpu' it is the other way round.
function readCells(flat: tf.Tensor, idx: tf.Tensor2D): tf.Tensor1D {
  return (tf.getBackend() === 'wasm' ? tf.gatherND(flat, idx) : tf.gather(flat, idx.reshape([-1]))) as tf.Tensor1D;
}

/**
 * Reads log π and log πref of the batch's cells, applies each loss group's loss (tfjs autodiff through the
 * registry's definition, so the gradients carry exactly the loss's stop-gradients), and on log steps the
 * standard metrics. One gather and one split serve every group.
 */
export function lossGradients(ctx: PhaseContext, logp: tf.Tensor3D, batch: Batch, withMetrics: boolean): PairGradients {
  const { R, B, KK, lossGroups } = ctx;
  const cells = readCells(logp.reshape([R * KK]), batch.cells); // [lw of all rows | ll of all rows]
  // one split gives every group its winner and loser slices: [lw_0, …, lw_G−1, ll_0, …, ll_G−1]
  const sizes = lossGroups.map((g) => g.count * B);
  const pieces = (x: tf.Tensor1D) => splitRows(x, [...sizes, ...sizes]);
  const lp = pieces(cells);
  const rp = pieces(batch.ref);
  const G = lossGroups.length;
  const perPairs: tf.Tensor[] = [];
  const gw: tf.Tensor[] = [];
  const gl: tf.Tensor[] = [];
  lossGroups.forEach((g, i) => {
    const shape = [g.count, B];
    const res = lossAndLogpGrads(
      g.loss,
      { lw: lp[i].reshape(shape), ll: lp[G + i].reshape(shape), refW: rp[i].reshape(shape), refL: rp[G + i].reshape(shape) },
      g.hyper,
    );
    perPairs.push(res.perPair);
    gw.push(res.gw);
    gl.push(res.gl);
  });
  const cat = (xs: tf.Tensor[]) => (xs.length === 1 ? xs[0] : tf.concat(xs, 0));
  const perPair = cat(perPairs) as tf.Tensor2D;

  let metrics: tf.Tensor2D | null = null;
  if (withMetrics) {
    const [lw, ll] = G === 1 ? [lp[0], lp[1]] : splitRows(cells, [R * B, R * B]);
    const [refW, refL] = G === 1 ? [rp[0], rp[1]] : splitRows(batch.ref, [R * B, R * B]);
    const all = { lw, ll, refW, refL, gw: cat(gw), gl: cat(gl), perPair };
    const parts = ctx.betaGroups.map((bg) => {
      const sl = (x: tf.Tensor) => (ctx.betaGroups.length === 1 ? x.reshape([R, B]) : x.reshape([R, B]).slice([bg.start, 0], [bg.count, B])); // rare: several β
      return stackStandardMetrics(
        standardMetrics({
          lw: sl(all.lw),
          ll: sl(all.ll),
          refW: sl(all.refW),
          refL: sl(all.refL),
          perPair: sl(all.perPair),
          gw: sl(all.gw),
          gl: sl(all.gl),
          beta: bg.beta,
        }),
      );
    });
    metrics = (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor2D;
  }
  return { perPair, gw, gl, metrics };
}

// ---- step 3: parameter gradients ---------------------------------------------------------------------------

export interface ParamGradients {
  /** ∂(mean loss)/∂θ per parameter, [R, ...shape] */
  total: tf.Tensor3D[];
  /** ‖∂L/∂θ‖ per row, [R] */
  norm: tf.Tensor1D;
  /** split steps: ‖gw·∇θ lw‖ and ‖gl·∇θ ll‖ per row (losses.md § diagnostics), [R] each */
  chosenNorm: tf.Tensor1D | null;
  rejectedNorm: tf.Tensor1D | null;
}

/**
 * Scatters the per-pair ∂L/∂log π into a K×K table per row (mean over the batch: gw, gl are gradients of the
 * SUM over pairs, hence 1/B) and runs the model's backward. Split steps do the same for the winners' part alone
 * (the chosen contribution); rejected = total − chosen, since the backward is linear.
 */
export function parameterGradients(
  ctx: PhaseContext,
  params: readonly tf.Tensor[],
  fwd: ForwardResult,
  pairs: PairGradients,
  batch: Batch,
  split: boolean,
): ParamGradients {
  const { R, K, B, shapes } = ctx;
  const flat = (xs: tf.Tensor[]) => xs.map((x) => x.reshape([-1]));
  const gradsOf = (idx: tf.Tensor2D, parts: tf.Tensor[]) => {
    const G = tf.scatterND(idx, tf.mul(tf.concat(flat(parts)), 1 / B), [R * K * K]).reshape([1, R, K, K]) as tf.Tensor4D;
    return backward(ctx.spec, params, fwd, G).map((g, k) => g.reshape([R, ...shapes[k]]) as tf.Tensor3D);
  };
  // order of the updates = order of batch.cells: winners of all rows, then losers
  const total = gradsOf(batch.cells, [...pairs.gw, ...pairs.gl]);
  const norm = tf.sqrt(rowSumSquares(total)) as tf.Tensor1D;
  if (!split) return { total, norm, chosenNorm: null, rejectedNorm: null };
  const chosen = gradsOf(batch.winners!, pairs.gw);
  return {
    total,
    norm,
    chosenNorm: tf.sqrt(rowSumSquares(chosen)) as tf.Tensor1D,
    rejectedNorm: tf.sqrt(rowSumSquares(total, chosen)) as tf.Tensor1D, // ‖total − chosen‖
  };
}

// ---- step 4: Adam --------------------------------------------------------------------------------------------

export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export type AdamState = {
  params: tf.Tensor[];
  m: tf.Tensor[];
  v: tf.Tensor[];
};

/** Fresh Adam moments for parameters of these shapes. */
export function adamInit(ctx: PhaseContext): { m: tf.Tensor[]; v: tf.Tensor[] } {
  return {
    m: ctx.shapes.map(([p, q]) => tf.zeros([ctx.R, p, q])),
    v: ctx.shapes.map(([p, q]) => tf.zeros([ctx.R, p, q])),
  };
}

/**
 * Update t (1-based) in PyTorch's form: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * θ ← θ − lr·(m / (1−β1^t)) / (√(v / (1−β2^t)) + ε), with each row's own lr.
 */
export function adamStep(ctx: PhaseContext, s: AdamState, grads: readonly tf.Tensor[], t: number): AdamState {
  const { beta1, beta2, eps } = ADAM;
  const c1 = 1 / (1 - Math.pow(beta1, t));
  const c2 = 1 / Math.sqrt(1 - Math.pow(beta2, t));
  const lr = { perRun: tf.tensor1d(Float32Array.from(ctx.rows, (r) => r.lr * c1)), same: ctx.sameLr ? ctx.rows[0].lr * c1 : null };
  const out: AdamState = { params: [], m: [], v: [] };
  grads.forEach((g, k) => {
    const u = adamUpdate(s.params[k], s.m[k], s.v[k], g, lr, { c2, beta1, beta2, eps });
    out.params.push(u.p);
    out.m.push(u.m);
    out.v.push(u.v);
  });
  return out;
}

// ---- the read-back layout ------------------------------------------------------------------------------------

export type ReadbackBlock = 'loss' | 'gradNorm' | 'chosenNorm' | 'rejectedNorm' | 'metrics' | 'eval' | 'probs';

/**
 * The blocks of a step's read-back buffer, in buffer order, and on which steps each is present. Every block but
 * `probs` is [rows, R] (row j of run r at offset + j·R + r); `probs` is [R, K·K] (run r's π(y|x) at
 * offset + r·K·K + x·K + y).
 */
export const READBACK_BLOCKS: readonly { name: ReadbackBlock; rows: (K: number) => number; when: keyof StepKind | 'always' }[] = [
  { name: 'loss', rows: () => 1, when: 'always' },
  { name: 'gradNorm', rows: () => 1, when: 'always' },
  { name: 'chosenNorm', rows: () => 1, when: 'split' },
  { name: 'rejectedNorm', rows: () => 1, when: 'split' },
  { name: 'metrics', rows: () => STANDARD_METRIC_NAMES.length, when: 'metrics' },
  /** EVAL_METRIC_NAMES order: expectedUtility, pBest, oodMass, klToRef, expectedUtilityNormalized */
  { name: 'eval', rows: () => 5, when: 'eval' },
  { name: 'probs', rows: (K) => K * K, when: 'eval' },
];

/** Offsets of the blocks present in one kind of step. */
export class ReadbackLayout {
  readonly size: number;
  private readonly offset = new Map<ReadbackBlock, number>();

  constructor(
    readonly R: number,
    readonly K: number,
    readonly kind: StepKind,
  ) {
    let off = 0;
    for (const b of READBACK_BLOCKS) {
      if (b.when !== 'always' && !kind[b.when]) continue;
      this.offset.set(b.name, off);
      off += b.rows(K) * R;
    }
    this.size = off;
  }

  has(block: ReadbackBlock): boolean {
    return this.offset.has(block);
  }

  /** Row j of run r in a [rows, R] block. */
  get(data: Float32Array, block: ReadbackBlock, r: number, j = 0): number {
    return data[this.offset.get(block)! + j * this.R + r];
  }

  /** Run r's K×K probabilities as a view into the buffer. */
  probs(data: Float32Array, r: number): Float32Array {
    const KK = this.K * this.K;
    const o = this.offset.get('probs')! + r * KK;
    return data.subarray(o, o + KK);
  }

  /** Packs the step's tensors into the one buffer, checking each block's size. */
  pack(parts: Partial<Record<ReadbackBlock, tf.Tensor>>): tf.Tensor1D {
    const flat: tf.Tensor[] = [];
    for (const b of READBACK_BLOCKS) {
      if (!this.offset.has(b.name)) continue;
      const t = parts[b.name];
      if (!t || t.size !== b.rows(this.K) * this.R) throw new Error(`internal: read-back block ${b.name} has ${t?.size ?? 'no'} values`);
      flat.push(t.reshape([-1]));
    }
    return (flat.length === 1 ? flat[0] : tf.concat(flat)) as tf.Tensor1D;
  }
}
