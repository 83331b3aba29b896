import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySink, RunCancelled, type RunSink } from '../../src-main/engine/sink';
import { SyntheticConfigSchema, type SyntheticConfigInput } from '@shared/synthetic-config';
import {
  EVAL_METRIC_NAMES,
  TRAIN_METRIC_NAMES,
  WARMUP_METRIC_NAMES,
  runSyntheticBatch,
  type SyntheticResult,
} from '../../src-main/engine/synthetic/experiment';
import { planBatches } from '../../src-main/engine/synthetic/plan';
import { backward, forward, initParams, type ModelSpec } from '../../src-main/engine/synthetic/model';
import { policyStats } from '../../src-main/engine/synthetic/task';
import { Rng, STREAMS } from '../../src-main/engine/synthetic/rng';
import type { SyntheticDataset } from '../../src-main/engine/synthetic/dataset';
import { getLoss } from '../../src-main/engine/losses/registry';
import { NonFiniteMetricError } from '../../src-main/engine/losses/diagnostics';
import { rowsOf } from '../support/metric-rows';

const cfg = (c: SyntheticConfigInput) => SyntheticConfigSchema.parse(c);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model backward', () => {
  it('matches tfjs autodiff (gradient check) for mlp and table, and is linear in the upstream', () => {
    for (const kind of ['mlp', 'table'] as const) {
      const spec: ModelSpec = { kind, K: 5, hidden: 7 };
      const R = 2;
      const params = kind === 'table' ? [tf.randomNormal([R, 5, 5], 0, 1, 'float32', 3)] : initParams(spec, [1, 2]);
      const G1 = tf.randomNormal([1, R, 5, 5], 0, 1, 'float32', 1) as tf.Tensor4D;
      const G2 = tf.randomNormal([1, R, 5, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
      const auto = tf.grads((...ps: tf.Tensor[]) => tf.sum(tf.mul(forward(spec, ps).logp, G1.reshape([R, 5, 5]))))(params);
      const fwd = forward(spec, params);
      const manual = backward(spec, params, fwd, tf.concat([G1, G2]) as tf.Tensor4D);
      const manual2 = backward(spec, params, fwd, G2);
      manual.forEach((g, k) => {
        const a = auto[k].arraySync() as number[][][];
        const m = g.arraySync() as number[][][][];
        expect(g.shape[0]).toBe(2);
        expect(tf.max(tf.abs(tf.sub(g.slice([0], [1]).reshape(auto[k].shape), auto[k]))).dataSync()[0]).toBeLessThan(1e-5);
        // slice 1 of the stacked call = a separate call with G2
        expect(Array.from(g.slice([1], [1]).dataSync())).toEqual(Array.from(manual2[k].dataSync()));
        expect(m.length).toBe(2);
        expect(a.length).toBe(R);
      });
    }
  });
});

/** Plain-JS (Float64) re-implementation of the full procedure for the table model with full-batch Adam. */
function jsTableRun(
  ds: SyntheticDataset,
  loss: 'dpo' | 'bdpo',
  refSteps: number,
  steps: number,
  lr: number,
  beta: number,
  minibatch?: { seed: number; size: number },
) {
  const K = ds.K;
  const T = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const logp = () =>
    T.map((row) => {
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, z) => a + Math.exp(z - mx), 0));
      return row.map((z) => z - lse);
    });
  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const log: { loss: number; gradNorm: number; chosen: number; rejected: number }[] = [];
  const phase = (n: number, ref: number[][], lossName: 'dpo' | 'bdpo', record: boolean) => {
    // minibatches: `size` pairs per step, uniform with replacement, from the run's seeded stream of this phase
    const rng = minibatch ? new Rng(minibatch.seed, record ? STREAMS.train : STREAMS.warmup) : null;
    const m = T.map((r) => r.map(() => 0));
    const v = T.map((r) => r.map(() => 0));
    for (let t = 1; t <= n; t++) {
      const lp = logp();
      const P = lp.map((r) => r.map(Math.exp));
      const Gw = T.map((r) => r.map(() => 0));
      const Gl = T.map((r) => r.map(() => 0));
      let lossSum = 0;
      const batch = rng ? Array.from({ length: minibatch!.size }, () => ds.pairs[Math.floor(rng.next() * ds.pairs.length)]) : ds.pairs;
      const B = batch.length;
      for (const [x, w, l] of batch) {
        const lw = lp[x][w];
        const ll = lp[x][l];
        const rw = lw - ref[x][w];
        const rl = ll - ref[x][l];
        let z: number;
        let dzw: number;
        let dzl: number;
        if (lossName === 'dpo') {
          z = beta * (rw - rl);
          dzw = beta;
          dzl = -beta;
        } else {
          const lamW = ll / (lw + ll); // detached
          z = beta * (lamW * rw - (1 - lamW) * rl);
          dzw = beta * lamW;
          dzl = -beta * (1 - lamW);
        }
        lossSum += softplus(-z);
        const dLdz = -sigmoid(-z);
        Gw[x][w] += (dLdz * dzw) / B;
        Gl[x][l] += (dLdz * dzl) / B;
      }
      const back = (G: number[][]) =>
        G.map((row, x) => {
          const s = row.reduce((a, b) => a + b, 0);
          return row.map((g, y) => g - P[x][y] * s);
        });
      const norm = (G: number[][]) => Math.sqrt(G.flat().reduce((a, b) => a + b * b, 0));
      const dZ = back(Gw.map((r, x) => r.map((g, y) => g + Gl[x][y])));
      if (record) log.push({ loss: lossSum / B, gradNorm: norm(dZ), chosen: norm(back(Gw)), rejected: norm(back(Gl)) });
      const c1 = 1 - Math.pow(0.9, t);
      const c2 = 1 - Math.pow(0.999, t);
      for (let x = 0; x < K; x++)
        for (let y = 0; y < K; y++) {
          const g = dZ[x][y];
          m[x][y] = 0.9 * m[x][y] + 0.1 * g;
          v[x][y] = 0.999 * v[x][y] + 0.001 * g * g;
          T[x][y] -= (lr * (m[x][y] / c1)) / (Math.sqrt(v[x][y] / c2) + 1e-8);
        }
    }
  };
  phase(refSteps, logp(), 'dpo', false);
  const refLogp = logp();
  phase(steps, refLogp, loss, true);
  return { refProbs: refLogp.map((r) => r.map(Math.exp)), probs: logp().map((r) => r.map(Math.exp)), log };
}

/** K = 4; in every row each response wins/loses a distinct net number of times, so no gradient is exactly 0. */
function handDataset(): SyntheticDataset {
  const K = 4;
  const pairs: [number, number, number][] = [];
  for (let x = 0; x < K; x++) {
    const rank = (y: number) => (y + x) % K; // lower rank wins
    for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) if (a !== b && rank(a) < rank(b)) pairs.push([x, a, b]);
  }
  return { K, alpha: 0.6, mask: [], pairs };
}

describe('runSyntheticBatch', () => {
  it('reproduces a plain-JS table-model implementation (full batch, DPO and bDPO)', async () => {
    const ds = handDataset();
    for (const loss of ['dpo', 'bdpo'] as const) {
      const c = cfg({ loss, model: 'table', K: 4, batchSize: 0, refSteps: 6, steps: 8, lr: 0.05, beta: 0.7, evalEvery: 4 });
      const sink = new MemorySink();
      const [res] = await runSyntheticBatch([{ config: c, dataset: ds }], sink);
      const js = jsTableRun(ds, loss, 6, 8, 0.05, 0.7);
      for (let x = 0; x < 4; x++)
        for (let y = 0; y < 4; y++) {
          expect(Math.abs(res.refProbs[x][y] - js.refProbs[x][y])).toBeLessThan(2e-5);
          expect(Math.abs(res.probs[x][y] - js.probs[x][y])).toBeLessThan(2e-5);
        }
      const rows = rowsOf(sink, 0);
      js.log.forEach((l, i) => {
        const step = i + 1;
        expect(rows.get(`${step}|loss`)).toBeCloseTo(l.loss, 5);
        expect(rows.get(`${step}|grad_norm`)! / l.gradNorm).toBeCloseTo(1, 4);
        expect(rows.get(`${step}|balance/param_grad_norm_chosen`)! / l.chosen).toBeCloseTo(1, 4);
        expect(rows.get(`${step}|balance/param_grad_norm_rejected`)! / l.rejected).toBeCloseTo(1, 4);
      });
      // the policy moved: the test is not comparing two copies of the uniform distribution
      expect(Math.abs(js.probs[0][0] - 0.25)).toBeGreaterThan(0.05);
      expect(res.dataset).toEqual(ds);
    }
  });

  it('reproduces the plain-JS implementation with seeded minibatches (same streams, same pairs)', async () => {
    const ds = handDataset();
    const c = cfg({ loss: 'dpo', model: 'table', K: 4, batchSize: 5, seed: 12, refSteps: 5, steps: 7, lr: 0.05 });
    const sink = new MemorySink();
    const [res] = await runSyntheticBatch([{ config: c, dataset: ds }], sink);
    const js = jsTableRun(ds, 'dpo', 5, 7, 0.05, 1, { seed: 12, size: 5 });
    for (let x = 0; x < 4; x++) for (let y = 0; y < 4; y++) expect(Math.abs(res.probs[x][y] - js.probs[x][y])).toBeLessThan(2e-5);
    const rows = rowsOf(sink, 0);
    js.log.forEach((l, i) => expect(rows.get(`${i + 1}|loss`)).toBeCloseTo(l.loss, 5));
  });

  const mixed = () => [
    cfg({ loss: 'dpo', seed: 0, mask: 0.2, steps: 9, refSteps: 5, batchSize: 16, logEvery: 3, evalEvery: 4, hidden: 8, pairsPerPrompt: 20 }),
    cfg({ loss: 'bdpo', seed: 1, mask: 0, steps: 9, refSteps: 5, batchSize: 16, logEvery: 3, evalEvery: 4, hidden: 8, pairsPerPrompt: 20, lr: 0.02 }),
    cfg({ loss: 'nbdpo-symm', seed: 0, mask: 0.2, steps: 9, refSteps: 5, batchSize: 16, logEvery: 3, evalEvery: 4, hidden: 8, pairsPerPrompt: 20 }),
    cfg({ loss: 'dpo', seed: 2, mask: 0.4, steps: 9, refSteps: 5, batchSize: 16, logEvery: 3, evalEvery: 4, hidden: 8, pairsPerPrompt: 30, beta: 0.5 }),
    cfg({ loss: 'ipo', seed: 3, mask: 0, steps: 9, refSteps: 5, batchSize: 16, logEvery: 3, evalEvery: 4, hidden: 8, pairsPerPrompt: 20, beta: 0.5 }),
  ];

  async function aloneVsBatched() {
    const configs = mixed();
    const batchedSink = new MemorySink();
    const batched = await runSyntheticBatch(
      configs.map((config) => ({ config })),
      batchedSink,
    );
    for (let i = 0; i < configs.length; i++) {
      const s = new MemorySink();
      const [alone] = await runSyntheticBatch([{ config: configs[i] }], s);
      expect(alone.final).toEqual(batched[i].final);
      expect(alone.refFinal).toEqual(batched[i].refFinal);
      expect(alone.probs).toEqual(batched[i].probs);
      expect(rowsOf(s, 0)).toEqual(rowsOf(batchedSink, i));
    }
    return batched;
  }

  it('gives a run alone exactly the numbers it gets inside a batch (cpu)', async () => {
    const batched = await aloneVsBatched();
    // and the runs really differ from each other
    expect(batched[0].final.expectedUtility).not.toBe(batched[2].final.expectedUtility);
  });

  it('gives the same numbers whether runs share their warm-up or not', async () => {
    const configs = mixed(); // runs 0 and 2 have the same warm-up
    const a = new MemorySink();
    const b = new MemorySink();
    const shared = await runSyntheticBatch(
      configs.map((config) => ({ config })),
      a,
    );
    const separate = await runSyntheticBatch(
      configs.map((config) => ({ config })),
      b,
      { shareWarmup: false },
    );
    expect(separate).toEqual(shared);
    for (let i = 0; i < configs.length; i++) expect(rowsOf(b, i)).toEqual(rowsOf(a, i));
    expect(shared[0].refProbs).toEqual(shared[2].refProbs);
  });

  it('is deterministic and does not leak tensors', async () => {
    const before = tf.memory().numTensors;
    const c = mixed();
    const s1 = new MemorySink();
    const s2 = new MemorySink();
    const r1 = await runSyntheticBatch(
      c.map((config) => ({ config })),
      s1,
    );
    const r2 = await runSyntheticBatch(
      c.map((config) => ({ config })),
      s2,
    );
    expect(r2).toEqual(r1);
    expect(s2.rows).toEqual(s1.rows);
    expect(s2.snapshots).toEqual(s1.snapshots);
    expect(tf.memory().numTensors).toBe(before);
    // a different seed changes the numbers
    const [other] = await runSyntheticBatch([{ config: { ...c[0], seed: 9 } }], new MemorySink());
    expect(other.final).not.toEqual(r1[0].final);
  });

  it('logs every metric under its name at the right steps, and eval at 0, evalEvery·k and the end', async () => {
    const c = cfg({ model: 'table', K: 6, steps: 10, refSteps: 4, logEvery: 3, evalEvery: 4, batchSize: 8, pairsPerPrompt: 10, loss: 'nbdpo-asymm' });
    const sink = new MemorySink();
    await runSyntheticBatch([{ config: c }], sink);
    const stepsOf = (name: string) => sink.rows.filter((r) => r.name === name).map((r) => r.step);
    for (const n of TRAIN_METRIC_NAMES) expect(stepsOf(n)).toEqual([3, 6, 9, 10]);
    for (const n of EVAL_METRIC_NAMES) expect(stepsOf(n)).toEqual([0, 4, 8, 10]);
    for (const n of WARMUP_METRIC_NAMES) expect(stepsOf(n)).toEqual([3, 4]);
    expect(TRAIN_METRIC_NAMES).toEqual([
      'loss',
      'rewards/chosen',
      'rewards/rejected',
      'rewards/margins',
      'rewards/accuracies',
      'logps/chosen',
      'logps/rejected',
      'balance/log10_prob_ratio',
      'balance/logp_grad_ratio',
      'grad_norm',
      'learning_rate',
      'balance/param_grad_norm_chosen',
      'balance/param_grad_norm_rejected',
    ]);
    expect(sink.snapshots.map((s) => [s.step, s.name])).toEqual([
      [0, 'probs'],
      [4, 'probs'],
      [8, 'probs'],
      [10, 'probs'],
    ]);
    expect(sink.rows.filter((r) => r.name === 'learning_rate').every((r) => Math.abs(r.value - 0.01) < 1e-12)).toBe(true);
    for (const r of sink.rows) expect(Number.isFinite(r.value)).toBe(true);
    expect(sink.lastProgress).toEqual([14, 14]);
  });

  it('evaluates πref at step 0 and the final policy at the end, as plain-JS policyStats does', async () => {
    const c = cfg({ loss: 'dpo', mask: 0.4, seed: 4, steps: 12, refSteps: 6, batchSize: 32, hidden: 16, evalEvery: 5 });
    const sink = new MemorySink();
    const [res] = await runSyntheticBatch([{ config: c }], sink);
    const at = (step: number, name: string) => sink.rows.find((r) => r.step === step && r.name === name)!.value;
    expect(at(0, 'expectedUtility')).toBe(res.refFinal.expectedUtility);
    expect(at(0, 'pBest')).toBe(res.refFinal.pBest);
    expect(at(0, 'oodMass')).toBe(res.refFinal.oodMass);
    expect(at(0, 'klToRef')).toBe(0);
    expect(res.refFinal.klToRef).toBe(0);
    expect(at(12, 'expectedUtility')).toBe(res.final.expectedUtility);
    expect(sink.snapshots[0].data).toEqual(res.refProbs);
    expect(sink.snapshots[sink.snapshots.length - 1].data).toEqual(res.probs);
    const refJs = policyStats(res.refProbs, res.refProbs, c.alpha, res.dataset.mask);
    const finJs = policyStats(res.probs, res.refProbs, c.alpha, res.dataset.mask);
    for (const k of ['expectedUtility', 'pBest', 'oodMass'] as const) {
      expect(res.refFinal[k]).toBeCloseTo(refJs[k], 5);
      expect(res.final[k]).toBeCloseTo(finJs[k], 5);
    }
    expect(res.final.klToRef).toBeCloseTo(finJs.klToRef, 4);
    expect(res.final.klToRef).toBeGreaterThan(0);
    expect(res.dataset.mask.length).toBe(160);
    for (const row of res.probs) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('improves expected utility over πref with DPO', async () => {
    for (const model of ['table', 'mlp'] as const) {
      const c = cfg({ loss: 'dpo', model, steps: 120, refSteps: 30, evalEvery: 60, hidden: 16 });
      const [res] = await runSyntheticBatch([{ config: c }], new MemorySink(false), { snapshots: false });
      expect(res.final.expectedUtility).toBeGreaterThan(res.refFinal.expectedUtility + 0.3);
    }
  });

  it('stops with RunCancelled when poll() says so, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const immediate: RunSink = { ...new MemorySink(), metrics() {}, snapshot() {}, progress() {}, poll: async () => true };
    await expect(runSyntheticBatch([{ config: cfg({ steps: 5, refSteps: 2 }) }], immediate)).rejects.toBeInstanceOf(RunCancelled);
    const later = new MemorySink();
    let polls = 0;
    later.poll = async () => ++polls > 7; // cancel inside the training phase
    await expect(runSyntheticBatch([{ config: cfg({ steps: 20, refSteps: 3, hidden: 8 }) }], later)).rejects.toBeInstanceOf(RunCancelled);
    expect(polls).toBe(8);
    expect(later.rows.some((r) => r.name === 'loss')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws a clear error naming the loss and step when bDPO meets lw + ll = 0', async () => {
    const before = tf.memory().numTensors;
    const bdpo = getLoss('bdpo');
    let calls = 0;
    // the real bDPO, fed lw + ll = 0 from the 3rd training step on
    const poisoned = {
      ...bdpo,
      perPair: (inputs: Parameters<typeof bdpo.perPair>[0], hyper: Parameters<typeof bdpo.perPair>[1]) =>
        ++calls >= 3 ? bdpo.perPair({ ...inputs, ll: tf.sub(tf.sub(inputs.ll, inputs.ll), inputs.lw) }, hyper) : bdpo.perPair(inputs, hyper),
    };
    const run = runSyntheticBatch(
      [{ config: cfg({ loss: 'dpo', steps: 5, refSteps: 0, model: 'table' }) }, { config: cfg({ loss: 'bdpo', steps: 5, refSteps: 0, model: 'table' }) }],
      new MemorySink(),
      { getLoss: (n) => (n === 'bdpo' ? poisoned : getLoss(n)) },
    );
    await expect(run).rejects.toBeInstanceOf(NonFiniteMetricError);
    await expect(run).rejects.toThrow(/^loss bdpo produced non-finite metrics at step 3: (loss|grad_norm)\[run 1\]=(NaN|-?Infinity).*lw \+ ll = 0/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('uses a given dataset as is, and rejects one that disagrees with the config', async () => {
    const ds = handDataset();
    const [res] = await runSyntheticBatch([{ config: cfg({ K: 4, model: 'table', steps: 3, refSteps: 1 }), dataset: ds }], new MemorySink());
    expect(res.dataset).toEqual(ds);
    await expect(runSyntheticBatch([{ config: cfg({ K: 5, steps: 3 }), dataset: ds }], new MemorySink())).rejects.toThrow(
      'runs[0].dataset.K: the dataset has K = 4 but the run config has K = 5',
    );
    await expect(runSyntheticBatch([{ config: cfg({ K: 4, alpha: 1, steps: 3 }), dataset: ds }], new MemorySink())).rejects.toThrow(
      'runs[0].dataset.alpha: the dataset has alpha = 0.6 but the run config has alpha = 1',
    );
  });

  it('trains full-batch runs with datasets of different sizes (one program each) and keeps input order', async () => {
    const ds = handDataset();
    const a = cfg({ K: 4, model: 'table', steps: 4, refSteps: 2, batchSize: 0, pairsPerPrompt: 3 });
    const results: SyntheticResult[] = await runSyntheticBatch(
      [{ config: a }, { config: a, dataset: ds }, { config: { ...a, loss: 'bdpo' } }],
      new MemorySink(),
    );
    expect(results.map((r) => r.dataset.pairs.length)).toEqual([12, 24, 12]);
    expect(results[2].config.loss).toBe('bdpo');
    expect(results[0].refProbs).toEqual(results[2].refProbs); // same warm-up
  });

  it('rejects an unknown loss before doing any work', async () => {
    const sink = new MemorySink();
    await expect(runSyntheticBatch([{ config: { ...cfg({}), loss: 'nope' as 'dpo' } }], sink)).rejects.toThrow(/loss/);
    expect(sink.rows.length).toBe(0);
  });
});

describe('planBatches', () => {
  it('groups configs that can share a program, in first-seen order', () => {
    const base = cfg({});
    const configs = [
      base,
      { ...base, loss: 'bdpo' as const, seed: 3, mask: 0.4, lr: 0.1 },
      { ...base, model: 'table' as const },
      { ...base, steps: 10 },
      { ...base, loss: 'ipo' as const },
      { ...base, model: 'table' as const, hidden: 3 }, // hidden is irrelevant for the table
    ];
    expect(planBatches(configs)).toEqual([[0, 1, 4], [2, 5], [3]]);
    expect(planBatches(configs, 2)).toEqual([[0, 1], [2, 5], [3], [4]]);
  });
});

describe('wasm backend', () => {
  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // A lone run gets no silent twin on WASM any more (the lab's matmul kernel is batch-invariant): both models,
  // and the mlp with a hidden width under 4, which falls back to tf.matMul and so keeps the twin.
  for (const extra of [{}, { model: 'table' as const }, { hidden: 3 }]) {
    it(`gives a run alone exactly the numbers it gets inside a batch (wasm, ${JSON.stringify(extra)})`, async () => {
      expect(tf.getBackend()).toBe('wasm');
      const configs = [
        cfg({ loss: 'dpo', seed: 0, mask: 0.2, steps: 9, refSteps: 5, batchSize: 16, logEvery: 2, evalEvery: 4, pairsPerPrompt: 20, ...extra }),
        cfg({ loss: 'bdpo', seed: 1, mask: 0.4, steps: 9, refSteps: 5, batchSize: 16, logEvery: 2, evalEvery: 4, pairsPerPrompt: 20, ...extra }),
        cfg({ loss: 'nbdpo2-asymm', seed: 0, mask: 0.2, steps: 9, refSteps: 5, batchSize: 16, logEvery: 2, evalEvery: 4, pairsPerPrompt: 20, ...extra }),
      ];
      const bs = new MemorySink();
      const batched = await runSyntheticBatch(
        configs.map((config) => ({ config })),
        bs,
      );
      for (let i = 0; i < configs.length; i++) {
        const s = new MemorySink();
        const [alone] = await runSyntheticBatch([{ config: configs[i] }], s);
        expect(alone.probs).toEqual(batched[i].probs);
        expect(rowsOf(s, 0)).toEqual(rowsOf(bs, i));
      }
    });
  }
});
