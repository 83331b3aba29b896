import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabStore } from '../store';
import type { BenchRunner } from '../runner/bench-runner';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import type { BenchRecord } from '@shared/bench';
import { LabError } from '@shared/errors';

type BenchCommand = Extract<CommandName, `benches:${string}`>;
type BenchHandlers = { [C in BenchCommand]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

/** A session's models, data and runs: beside the database, as LLM runs' folders are. */
export function benchWorkDir(dbFile: string, benchId: number): string {
  const root = dbFile === ':memory:' ? path.join(os.tmpdir(), `dpo-lab-${process.pid}`) : path.join(path.dirname(dbFile), 'benches');
  return path.join(root, `bench-${benchId}`);
}

/** The benchmark commands: start (a worker job), list, get, cancel. A session's rows are evaluations (evals:list). */
export function benchHandlers(ctx: { store: LabStore; benches: BenchRunner }): BenchHandlers {
  const { store, benches } = ctx;
  const mustGet = (id: number): BenchRecord => {
    const b = store.benches.get(id);
    if (!b) throw new LabError('not_found', `benchmark session ${id} does not exist`, [{ path: 'id', message: `no benchmark session with id ${id}` }]);
    return b;
  };
  return {
    'benches:start': (input) => {
      const asked = input.workDir ? path.resolve(input.workDir) : null;
      if (asked && fs.existsSync(asked) && (!fs.statSync(asked).isDirectory() || fs.readdirSync(asked).length))
        throw new LabError('invalid_input', `workDir: ${asked} is not an empty folder; choose a new or empty one`, [
          { path: 'workDir', message: `${asked} is not an empty folder; choose a new or empty one` },
        ]);
      const settings = { ...input, ...(asked ? { workDir: asked } : {}) };
      const benchId = store.benches.create({ name: 'safety-tiny', settings, workDir: asked ?? '' });
      const workDir = asked ?? benchWorkDir(store.file, benchId);
      store.benches.setWorkDir(benchId, workDir);
      fs.mkdirSync(workDir, { recursive: true });
      void benches.enqueue(benchId, { settings, workDir });
      return { benchId };
    },
    'benches:list': () => store.benches.list(),
    'benches:get': ({ id }) => mustGet(id),
    'benches:cancel': ({ id }) => {
      const b = mustGet(id);
      if (benches.cancel(id)) return { ok: true };
      if (b.status === 'queued' || b.status === 'running')
        throw new LabError('conflict', `benchmark session ${id} is being run by another DPO Lab process; cancel it there`);
      return { ok: false };
    },
  };
}
