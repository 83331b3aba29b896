/**
 * Synthetic-lab speed: one run's optimiser steps per second on the 'cpu' and 'wasm' tfjs backends, and the
 * wall time of the paper's full Table 1 sweep (6 losses × 3 masks × 5 seeds = 90 runs of 300 warm-up + 1000
 * steps, batch 64, K = 20, mlp hidden 64, logEvery 1, evalEvery 10) trained as one batched program on the
 * faster backend. Prints the sweep's Table 1 (ours vs the paper) as a side product.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MemorySink } from '../../src-main/engine/sink';
import { SyntheticConfigSchema, type SyntheticConfig } from '@shared/synthetic-config';
import { emptyStepTimings, runSyntheticBatch, type StepTimings } from '../../src-main/engine/synthetic/experiment';
import { table1Configs } from '../../src-main/engine/synthetic/sweep';
import { summariseRuns } from '@shared/sweeps';
import { table1Text } from '../../src-main/cli/table1-text';
import type { BenchRow } from './table';

const require = createRequire(import.meta.url);

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} did not start`);
  await tf.ready();
}

/** Seconds for runSyntheticBatch on these configs (a sink that drops rows, like a worker that is not watched). */
async function timeRuns(
  configs: SyntheticConfig[],
  timings?: StepTimings,
): Promise<{ seconds: number; results: Awaited<ReturnType<typeof runSyntheticBatch>> }> {
  const t0 = performance.now();
  const results = await runSyntheticBatch(
    configs.map((config) => ({ config })),
    new MemorySink(false),
    { timings },
  );
  return { seconds: (performance.now() - t0) / 1000, results };
}

export async function syntheticBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const single = SyntheticConfigSchema.parse({ loss: 'dpo', refSteps: 100, steps: 400 });
  const singleSteps = single.refSteps + single.steps;
  const probe = table1Configs({ seeds: 5, steps: 20, base: { refSteps: 0 } });
  const probeRate: Record<string, number> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    await timeRuns([SyntheticConfigSchema.parse({ ...single, steps: 5, refSteps: 5 })]); // warm up kernels
    const { seconds } = await timeRuns([single]);
    rows.push({
      name: 'synthetic: one run (mlp h64, batch 64, K 20)',
      backend,
      value: singleSteps / seconds,
      unit: 'steps/s',
      note: `${single.refSteps} warm-up + ${single.steps} steps, all metrics every step`,
    });
    const p = await timeRuns(probe);
    probeRate[backend] = (probe.length * 20) / p.seconds;
    rows.push({ name: 'synthetic: 90 runs batched, 20 steps (probe)', backend, value: probeRate[backend], unit: 'run-steps/s' });
  }
  const fastest = probeRate.wasm >= probeRate.cpu ? 'wasm' : 'cpu';
  await useBackend(fastest);
  const sweep = table1Configs({ seeds: 5, steps: 1000 });
  const timings = emptyStepTimings();
  const { seconds, results } = await timeRuns(sweep, timings);
  const runSteps = sweep.reduce((s, c) => s + c.refSteps + c.steps, 0);
  const note = `90 runs × (300 warm-up + 1000) steps, batch 64, logEvery 1, evalEvery 10`;
  rows.push({ name: 'synthetic: Table 1 sweep wall time', backend: fastest, value: seconds, unit: 's', note });
  const STEP_NOTES: Record<keyof StepTimings, string> = {
    sample: 'minibatch indices and πref values (host), upload',
    forward: 'policy log-probs of all runs',
    loss: 'per-pair loss and ∂L/∂log π (autodiff per loss group), standard metrics',
    paramGrads: 'scatter, backward (total and chosen), gradient norms',
    adam: 'Adam update',
    readback: 'pack and read the one buffer per step',
    host: 'finite check, metric rows to the sink',
  };
  for (const [step, ms] of Object.entries(timings) as [keyof StepTimings, number][]) {
    rows.push({ name: `synthetic:   ${step}`, backend: fastest, value: ms / 1000, unit: 's', note: STEP_NOTES[step] });
  }
  rows.push({ name: 'synthetic: Table 1 sweep', backend: fastest, value: sweep.length / seconds, unit: 'runs/s' });
  rows.push({ name: 'synthetic: Table 1 sweep', backend: fastest, value: runSteps / seconds, unit: 'run-steps/s' });
  console.log(`\nTable 1 (final expectedUtility, mean ± std over 5 seeds; paper in parentheses), ${fastest} backend, ${seconds.toFixed(1)} s:\n`);
  console.log(
    table1Text(
      summariseRuns(
        results.map((r, i) => ({ id: i + 1, status: 'done', config: r.config, final: r.final })),
        'table1',
      ),
    ),
  );
  console.log('');
  return rows;
}
