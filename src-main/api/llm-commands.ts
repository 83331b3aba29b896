import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { LlmConfigSchema } from '@shared/llm-config';
import { isBackendPreference, type BackendPreference } from '@shared/backends';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import { LabError } from '@shared/errors';
import { llmRunDir, resumeLlmRun } from './llm-runs';

type LlmCommand = Extract<CommandName, 'runs:resume' | 'runs:exportModel' | 'models:inspect' | 'datasets:inspect' | 'llm:logps' | 'llm:score'>;
type LlmHandlers = { [C in LlmCommand]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

/** A user's file problem (missing tensor, bad row, no such folder) is bad input, not an internal error. */
async function asInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof LabError) throw err;
    throw new LabError('invalid_input', (err as Error).message ?? String(err));
  }
}

/**
 * The LLM commands. Model and data inspection read files only; log-probs and export compute with tfjs, which is
 * loaded on first use, as loss:inspect does, so the app and `serve` start without it.
 */
export function llmHandlers(ctx: {
  store: LabStore;
  manager: RunManager;
  backendPreference: string;
  ensureBackend: (init: (pref: BackendPreference) => Promise<unknown>, preference: string) => Promise<unknown>;
}): LlmHandlers {
  const { store, manager } = ctx;
  const backend = async () => {
    const { initBackend } = await import('../engine/backend');
    await ctx.ensureBackend(initBackend, isBackendPreference(ctx.backendPreference) ? ctx.backendPreference : 'auto');
  };
  return {
    'runs:resume': ({ id }) => resumeLlmRun(store, manager, id),
    'runs:exportModel': ({ id, out, mode, overwrite }) =>
      asInput(async () => {
        const run = store.runs.get(id);
        if (!run) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'id', message: `no run with id ${id}` }]);
        if (run.kind !== 'llm') throw new LabError('invalid_input', `run ${id} is a ${run.kind} run; only LLM runs have a model to export`);
        const config = LlmConfigSchema.parse(run.config);
        if (mode === 'adapter' && config.finetune !== 'lora')
          throw new LabError('invalid_input', `run ${id} fine-tuned every weight; it has no adapter (use --merged)`, [{ path: 'mode', message: 'no adapter' }]);
        await backend();
        const { exportRunModel } = await import('../engine/llm/export-model');
        return exportRunModel({ config, runDir: llmRunDir(store.file, id), out, mode, overwrite });
      }),
    'models:inspect': ({ path, maxLength }) =>
      asInput(async () => {
        const { inspectModel } = await import('../engine/llm/inspect-model');
        return inspectModel(path, { maxLength });
      }),
    'datasets:inspect': (input) =>
      asInput(async () => {
        const { inspectDataset } = await import('../engine/llm/inspect-dataset');
        return inspectDataset(input);
      }),
    'llm:logps': (input) =>
      asInput(async () => {
        await backend();
        const { logpsOfFile } = await import('../engine/llm/logps-file');
        return logpsOfFile(input);
      }),
    'llm:score': (input) =>
      asInput(async () => {
        await backend();
        const { scoreFile } = await import('../engine/llm/score-file');
        return scoreFile(input);
      }),
  };
}
