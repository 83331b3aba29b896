import fs from 'node:fs';
import path from 'node:path';
import type { LabStore } from '../store';
import type { EvalRunner } from '../runner/eval-runner';
import type { EvalJobSpec, PolicySource } from '../engine/llm/evaluate';
import { tableCsv } from '../store/export';
import { LlmConfigSchema } from '@shared/llm-config';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import { EVAL_TABLE_HEADER, evalTableRow, type EvalRecord } from '@shared/eval';
import { LabError, type FieldIssue } from '@shared/errors';
import { llmRunDir } from './llm-runs';

type EvalCommand = Extract<CommandName, `evals:${string}`>;
type EvalHandlers = { [C in EvalCommand]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

const bad = (issues: FieldIssue[]) => new LabError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);

/** A scorer or model folder the worker will load: checked now, so a typo is said at once and not after generation. */
function checkFolder(field: string, dir: string, what: string): FieldIssue | null {
  if (!fs.existsSync(dir)) return { path: field, message: `${dir}: no such folder` };
  if (!fs.statSync(dir).isDirectory()) return { path: field, message: `${dir} is a file; give the ${what} folder` };
  if (!fs.existsSync(path.join(dir, 'config.json'))) return { path: field, message: `${dir} is not a ${what} folder (no config.json)` };
  return null;
}

/** The evaluation commands: start (a worker job), list, get, responses, CSV of the results table, cancel, delete. */
export function evalHandlers(ctx: { store: LabStore; evals: EvalRunner }): EvalHandlers {
  const { store, evals } = ctx;
  const mustGet = (id: number): EvalRecord => {
    const e = store.evals.get(id);
    if (!e) throw new LabError('not_found', `evaluation ${id} does not exist`, [{ path: 'id', message: `no evaluation with id ${id}` }]);
    return e;
  };
  return {
    'evals:start': async (input) => {
      let policy: PolicySource;
      let name: string;
      let loss: string | null = null;
      let reference = input.reference ? path.resolve(input.reference) : null;
      if (input.run !== undefined) {
        const run = store.runs.get(input.run);
        if (!run) throw new LabError('not_found', `run ${input.run} does not exist`, [{ path: 'run', message: `no run with id ${input.run}` }]);
        if (run.kind !== 'llm') throw bad([{ path: 'run', message: `run ${run.id} is a ${run.kind} run; only LLM runs have a model to evaluate` }]);
        const parsed = LlmConfigSchema.safeParse(run.config);
        if (!parsed.success) throw bad([{ path: 'run', message: `run ${run.id}'s stored config is not a valid LLM config` }]);
        const runDir = llmRunDir(store.file, run.id);
        const { listCheckpoints } = await import('../engine/llm/checkpoints');
        if (!listCheckpoints(runDir).length)
          throw bad([{ path: 'run', message: `run ${run.id} has no checkpoint yet (${run.status}); evaluate it once it has trained` }]);
        policy = { kind: 'run', config: parsed.data, runDir };
        name = run.name;
        loss = parsed.data.loss;
        // the win rate is against the policy the run started from
        reference ??= parsed.data.model;
      } else {
        const dir = path.resolve(input.model!);
        const issue = checkFolder('model', dir, 'model');
        if (issue) throw bad([issue]);
        policy = { kind: 'model', dir };
        name = path.basename(dir);
      }
      const issues = [
        input.reward ? checkFolder('reward', path.resolve(input.reward), 'scorer') : null,
        input.cost ? checkFolder('cost', path.resolve(input.cost), 'scorer') : null,
        reference ? checkFolder('reference', reference, 'model') : null,
      ].filter((i): i is FieldIssue => i !== null);
      const prompts = path.resolve(input.prompts);
      const { readEvalPrompts } = await import('../engine/llm/eval-prompts');
      try {
        // every row is checked now (it is cheap), so a bad line is said before any model loads
        readEvalPrompts(prompts, input.samples);
      } catch (err) {
        issues.push({ path: 'prompts', message: (err as Error).message });
      }
      if (issues.length) throw bad(issues);
      const spec: EvalJobSpec = {
        policy,
        reference,
        prompts,
        samples: input.samples ?? null,
        reward: input.reward ? path.resolve(input.reward) : null,
        cost: input.cost ? path.resolve(input.cost) : null,
        settings: input.settings,
      };
      const evalId = store.evals.create({
        runId: input.run ?? null,
        name,
        loss,
        model: policy.kind === 'run' ? policy.config.model : policy.dir,
        prompts,
        reward: spec.reward,
        cost: spec.cost,
        reference,
        samples: spec.samples,
        settings: spec.settings,
      });
      void evals.enqueue(evalId, spec);
      return { evalId };
    },
    'evals:list': ({ runId, benchId }) => {
      // a filter naming nothing is a mistake to report, not an empty table
      if (runId !== undefined && !store.runs.get(runId))
        throw new LabError('not_found', `run ${runId} does not exist`, [{ path: 'runId', message: `no run with id ${runId}` }]);
      if (benchId !== undefined && !store.benches.get(benchId))
        throw new LabError('not_found', `benchmark session ${benchId} does not exist`, [
          { path: 'benchId', message: `no benchmark session with id ${benchId}` },
        ]);
      return store.evals.list({ runId, benchId });
    },
    'evals:get': ({ id }) => mustGet(id),
    'evals:responses': ({ id, offset, limit }) => {
      mustGet(id);
      return { total: store.evals.responseCount(id), rows: store.evals.responses(id, { offset, limit }) };
    },
    'evals:exportCsv': ({ ids }) => {
      const list = ids ? ids.map(mustGet) : store.evals.list().filter((e) => e.status === 'done');
      return { filename: ids?.length === 1 ? `eval-${ids[0]}.csv` : 'eval-results.csv', csv: tableCsv([...EVAL_TABLE_HEADER], list.map(evalTableRow)) };
    },
    'evals:cancel': ({ id }) => {
      const e = mustGet(id);
      if (evals.cancel(id)) return { ok: true };
      if (e.status === 'queued' || e.status === 'running')
        throw new LabError('conflict', `evaluation ${id} is being run by another DPO Lab process; cancel it there`);
      return { ok: false };
    },
    'evals:delete': ({ id }) => {
      const e = mustGet(id);
      if (e.status === 'queued' || e.status === 'running') throw new LabError('conflict', `evaluation ${id} is ${e.status}; cancel it before deleting`);
      return { ok: store.evals.delete(id) };
    },
  };
}
