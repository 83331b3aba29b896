/**
 * The fused, batched trainer (experiment.ts) against the short autodiff reference trainer (reference.ts), for
 * both models, on the pure-JS and the WASM backend: every logged metric, every eval and the final policy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySink } from '../../src-main/engine/sink';
import { SyntheticConfigSchema, type SyntheticConfigInput } from '@shared/synthetic-config';
import { EVAL_METRIC_NAMES, runSyntheticBatch } from '../../src-main/engine/synthetic/experiment';
import { trainReference } from '../../src-main/engine/synthetic/reference';

const require = createRequire(import.meta.url);

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  expect(await tf.setBackend(name)).toBe(true);
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** |a − b| ≤ abs + rel·|b| */
function close(a: number | undefined, b: number, rel: number, abs: number, what: string): void {
  expect(a, what).toBeDefined();
  if (!(Math.abs(a! - b) <= abs + rel * Math.abs(b))) expect.fail(`${what}: fused ${a} vs reference ${b}`);
}

/*
 * Tolerances. Both trainers work in float32 and sum in different orders, so they agree to ~1e-7 at first. Adam
 * then magnifies float noise in gradient entries that are exactly zero in exact arithmetic (e.g. a response no
 * pair of the batch mentions: DPO's ∂L/∂logits sums to zero per prompt) into updates of up to ~1% of lr, so
 * after a few steps the runs drift apart by ~1e-4. Bugs (a wrong stop-gradient, bias correction, batch or
 * scale) show up at 1e-2 or more. The first step of each run, before any update, is held to float32 precision.
 */
const REL = 1e-3;
const ABS = 3e-4;
/** rewards/accuracies counts pairs with chosen > rejected; near πref a pair's margin is ~0 and may flip */
const ACCURACY_PAIRS = 2;

const common: SyntheticConfigInput = { K: 8, hidden: 16, pairsPerPrompt: 20, batchSize: 16, refSteps: 8, steps: 12, logEvery: 1, evalEvery: 5, mask: 0.2 };
const runs = (model: 'table' | 'mlp'): SyntheticConfigInput[] => [
  { ...common, model, loss: 'dpo', seed: 0 },
  { ...common, model, loss: 'bdpo', seed: 1, lr: 0.02 },
  { ...common, model, loss: 'nbdpo-symm', seed: 0 },
  { ...common, model, loss: 'nbdpo2-asymm', seed: 2, beta: 0.5, mask: 0 },
  { ...common, model, loss: 'ipo', seed: 3, beta: 0.5, batchSize: 16 },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fused trainer vs autodiff reference (${backend})`, () => {
    for (const model of ['table', 'mlp'] as const) {
      it(`${model}: same metrics at every step, same evals and final policy`, async () => {
        await useBackend(backend);
        const configs = runs(model).map((c) => SyntheticConfigSchema.parse(c));
        const sink = new MemorySink();
        const results = await runSyntheticBatch(
          configs.map((config) => ({ config })),
          sink,
        );
        configs.forEach((config, i) => {
          const ref = trainReference(config, results[i].dataset);
          const rows = new Map<string, number>();
          for (const r of sink.rows) if (r.run === i) rows.set(`${r.step}|${r.name}`, r.value);
          const at = (step: number, name: string) => rows.get(`${step}|${name}`);
          const what = (step: number | string, name: string) => `${backend} ${model} run ${i} (${config.loss}) step ${step} ${name}`;
          // before any update: float32 agreement
          close(at(1, 'warmup/loss'), ref.warmup[0].loss, 1e-6, 1e-7, what(1, 'warmup/loss'));
          close(at(1, 'warmup/grad_norm'), ref.warmup[0].grad_norm, 1e-5, 1e-7, what(1, 'warmup/grad_norm'));
          ref.warmup.forEach((w, s) => {
            close(at(s + 1, 'warmup/loss'), w.loss, REL, ABS, what(s + 1, 'warmup/loss'));
            close(at(s + 1, 'warmup/grad_norm'), w.grad_norm, REL, ABS, what(s + 1, 'warmup/grad_norm'));
          });
          ref.train.forEach((m, s) => {
            for (const [name, value] of Object.entries(m)) {
              const tol = name === 'rewards/accuracies' ? ACCURACY_PAIRS / config.batchSize : ABS;
              close(at(s + 1, name), value, REL, tol, what(s + 1, name));
            }
          });
          expect(ref.evals.map((e) => e.step)).toEqual([0, 5, 10, 12]);
          for (const e of ref.evals) for (const name of EVAL_METRIC_NAMES) close(at(e.step, name), e.stats[name], REL, ABS, what(e.step, name));
          const last = ref.evals[ref.evals.length - 1].probs;
          results[i].probs.forEach((row, x) => row.forEach((p, y) => close(p, last[x][y], 0, ABS, what('end', `π(${y}|${x})`))));
          // the runs trained: the policy moved away from πref, by more than the tolerances
          expect(results[i].final.klToRef).toBeGreaterThan(1e-3);
        });
      });
    }
  });
}
