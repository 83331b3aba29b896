import type { LabStore } from '../store';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import { LlmConfigSchema } from '@shared/llm-config';
import { LabError } from '@shared/errors';
import { isLossName } from '@shared/losses';
import { parseFormula } from '@shared/formula';

type TrlCommand = Extract<CommandName, 'runs:exportTrl' | 'runs:importTrl'>;
type TrlHandlers = { [C in TrlCommand]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

/** A file problem (not empty, malformed trainer_state.json) is the user's input, not an internal error. */
async function asInput<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof LabError) throw err;
    throw new LabError('invalid_input', (err as Error).message ?? String(err));
  }
}

/** Export an LLM run as a TRL + Accelerate job (issue 12), and import such a job's logs as a run of kind 'trl'. */
export function trlHandlers(ctx: { store: LabStore }): TrlHandlers {
  const { store } = ctx;
  return {
    'runs:exportTrl': ({ id, out, overwrite }) =>
      asInput(async () => {
        const run = store.runs.get(id);
        if (!run) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'id', message: `no run with id ${id}` }]);
        if (run.kind !== 'llm') throw new LabError('invalid_input', `run ${id} is a ${run.kind} run; only LLM runs export as a TRL job`);
        const config = LlmConfigSchema.parse(run.config);
        const { labDataSplit, writeTrlJob } = await import('../trl/export-job');
        // the lab's exact split needs the data and the tokenizer; without them train.py splits by the seed
        const split = await labDataSplit(config).catch(() => null);
        // the saved formula losses go along, so the cluster job can try them too (one that no longer parses is left out)
        const customLosses = store.customLosses
          .list()
          .filter((c) => !isLossName(c.name) && parseFormula(c.formula).ok)
          .map(({ name, formula }) => ({ name, formula }));
        return writeTrlJob({ runId: id, config, out, split, overwrite, customLosses });
      }),
    'runs:importTrl': ({ dir }) =>
      asInput(async () => {
        const { importTrlJob } = await import('../trl/import-job');
        return importTrlJob(store, dir);
      }),
  };
}
