import fs from 'node:fs';
import path from 'node:path';
import type { LabStore } from '../store';
import type { ScorerRunner } from '../runner/scorer-runner';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import type { ScorerRecord } from '@shared/scorers';
import { LabError, type FieldIssue } from '@shared/errors';

type ScorerCommand = Extract<CommandName, `scorers:${string}`>;
type ScorerHandlers = { [C in ScorerCommand]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

const bad = (issues: FieldIssue[]) => new LabError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);

function checkModel(dir: string): FieldIssue | null {
  if (!fs.existsSync(dir)) return { path: 'model', message: `${dir}: no such folder` };
  if (!fs.statSync(dir).isDirectory()) return { path: 'model', message: `${dir} is a file; give the base model's folder` };
  if (!fs.existsSync(path.join(dir, 'config.json'))) return { path: 'model', message: `${dir} is not a model folder (no config.json)` };
  return null;
}

function checkOut(dir: string, model: string): FieldIssue | null {
  if (dir === model) return { path: 'out', message: `${dir} is the base model's folder; choose a new folder for the scorer` };
  if (!fs.existsSync(dir)) return null;
  if (!fs.statSync(dir).isDirectory()) return { path: 'out', message: `${dir} is a file; choose a new folder for the scorer` };
  if (fs.readdirSync(dir).length) return { path: 'out', message: `${dir} is not empty; choose a new or empty folder for the scorer` };
  return null;
}

/** The scorer-training commands: train (a worker job), list, get, cancel. */
export function scorerHandlers(ctx: { store: LabStore; scorers: ScorerRunner }): ScorerHandlers {
  const { store, scorers } = ctx;
  const mustGet = (id: number): ScorerRecord => {
    const s = store.scorers.get(id);
    if (!s) throw new LabError('not_found', `scorer training ${id} does not exist`, [{ path: 'id', message: `no scorer training with id ${id}` }]);
    return s;
  };
  return {
    'scorers:train': async (input) => {
      const model = path.resolve(input.model);
      const data = path.resolve(input.data);
      const out = path.resolve(input.out);
      const issues = [checkModel(model), checkOut(out, model)].filter((i): i is FieldIssue => i !== null);
      const busy = store.scorers.list().find((s) => (s.status === 'queued' || s.status === 'running') && s.out === out);
      if (busy) issues.push({ path: 'out', message: `${out} is being written by scorer training ${busy.id}; choose another folder` });
      // every row is read now (a file is at most a few hundred MB), so a missing label is said before a model loads
      const { loadScorerPairs } = await import('../engine/llm/scorer-pairs');
      try {
        await loadScorerPairs(data, input.kind);
      } catch (err) {
        issues.push({ path: 'data', message: (err as Error).message });
      }
      if (issues.length) throw bad(issues);
      const spec = { ...input, model, data, out };
      const scorerId = store.scorers.create(spec);
      void scorers.enqueue(scorerId, spec);
      return { scorerId };
    },
    'scorers:list': () => store.scorers.list(),
    'scorers:get': ({ id }) => mustGet(id),
    'scorers:cancel': ({ id }) => {
      const s = mustGet(id);
      if (scorers.cancel(id)) return { ok: true };
      if (s.status === 'queued' || s.status === 'running')
        throw new LabError('conflict', `scorer training ${id} is being run by another DPO Lab process; cancel it there`);
      return { ok: false };
    },
  };
}
