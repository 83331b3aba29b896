import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { LlmConfigSchema, type LlmConfig } from '@shared/llm-config';
import type { CommandParsed } from '@shared/contract';
import { LabError } from '@shared/errors';
import { lossLabel, withLoss } from '@shared/losses';

type LlmStart = Extract<CommandParsed<'runs:start'>, { kind: 'llm' }>;

export function llmRunName(c: LlmConfig): string {
  const tune = c.finetune === 'lora' ? `LoRA r${c.loraRank}` : 'full';
  return `${lossLabel(c)} · ${path.basename(c.model)} · ${tune} · seed ${c.seed}`;
}

/**
 * Where an LLM run keeps its checkpoints: beside the database, one folder per run, so that moving or backing up
 * the lab's folder takes them along. An in-memory lab (tests, one-off CLI computations) uses a temp folder.
 */
export function llmRunDir(dbFile: string, runId: number): string {
  const root = dbFile === ':memory:' ? path.join(os.tmpdir(), `dpo-lab-${process.pid}`) : path.join(path.dirname(dbFile), 'llm-runs');
  return path.join(root, `run-${runId}`);
}

function checkPaths(c: LlmConfig): void {
  const issues: { path: string; message: string }[] = [];
  if (!fs.existsSync(path.join(c.model, 'config.json'))) issues.push({ path: 'config.model', message: `${c.model} is not a model folder (no config.json)` });
  if (!fs.existsSync(c.data) || !fs.statSync(c.data).isFile()) issues.push({ path: 'config.data', message: `${c.data}: no such file` });
  if (issues.length) throw new LabError('invalid_input', issues.map((i) => i.message).join('; '), issues);
}

/** Creates one run per loss and queues each as its own job (they run one after another). */
export function startLlmRuns(store: LabStore, manager: RunManager, input: LlmStart): { runIds: number[] } {
  const configs = (input.losses ?? [input.config.loss]).map((loss) => ({
    ...withLoss(input.config, loss),
    model: path.resolve(input.config.model),
    data: path.resolve(input.config.data),
  }));
  checkPaths(configs[0]);
  const runIds = store.runs.createMany(
    configs.map((config) => ({
      name: input.name && configs.length === 1 ? input.name : input.name ? `${input.name} · ${lossLabel(config)}` : llmRunName(config),
      kind: 'llm',
      config,
      seed: config.seed,
      tags: input.tags,
    })),
  );
  runIds.forEach((runId, i) => manager.enqueueLlm({ runId, config: configs[i], runDir: llmRunDir(store.file, runId), resume: false }));
  return { runIds };
}

/** Re-queues a stopped LLM run; its worker picks up from the newest checkpoint (or from the start if none). */
export function resumeLlmRun(store: LabStore, manager: RunManager, id: number): { runIds: number[] } {
  const run = store.runs.get(id);
  if (!run) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'id', message: `no run with id ${id}` }]);
  if (run.kind !== 'llm') throw new LabError('invalid_input', `run ${id} is a ${run.kind} run; only LLM runs resume from checkpoints`);
  if (run.status === 'done') throw new LabError('conflict', `run ${id} is already done`);
  if (run.status === 'queued' || run.status === 'running') throw new LabError('conflict', `run ${id} is ${run.status}`);
  const parsed = LlmConfigSchema.safeParse(run.config);
  if (!parsed.success) throw new LabError('invalid_input', `run ${id}'s stored config is not a valid LLM config: ${parsed.error.message}`);
  // A checkpoint can be ahead of the rows the lab committed (the process died between the two): resume from one
  // the stored curve reaches, so the curve has no hole.
  const lossSteps = store.metrics.series(id, { names: ['loss'] }).loss?.steps ?? [];
  const resumeAtMostStep = lossSteps.length ? lossSteps[lossSteps.length - 1] : 0;
  store.runs.requeue(id);
  manager.enqueueLlm({
    runId: id,
    config: parsed.data,
    runDir: llmRunDir(store.file, id),
    resume: true,
    reference: store.artifacts.get(id, 'reference-logps')?.content,
    resumeAtMostStep,
  });
  return { runIds: [id] };
}
