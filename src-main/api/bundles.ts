/** Experiment bundles through the API: export a run or sweep as a file, import one, re-run a run. */
import type { LabStore } from '../store';
import type { RunManager } from '../runner/manager';
import { collectBundle } from '../bundle/collect';
import { decodeBundle, encodeBundle } from '../bundle/codec';
import { importBundle } from '../bundle/import';
import { rerunLinks, rerunRun } from '../bundle/rerun';
import { BUNDLE_EXTENSION, type BundleExportResult } from '@shared/bundle';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import { LabError } from '@shared/errors';

type BundleCommand = 'bundles:export' | 'bundles:import' | 'runs:rerun' | 'runs:reruns';
type Handlers = { [C in Extract<CommandName, BundleCommand>]: (input: CommandParsed<C>) => CommandOutputs[C] | Promise<CommandOutputs[C]> };

export function bundleHandlers(ctx: { store: LabStore; manager: RunManager; version: string }): Handlers {
  const { store, manager } = ctx;
  return {
    'bundles:export': async (input): Promise<BundleExportResult> => {
      const content = await collectBundle(store, input, { version: ctx.version });
      const { file, contentHash } = encodeBundle(content);
      const stem = input.sweepId !== undefined ? `sweep-${input.sweepId}` : `run-${input.runId}`;
      return {
        filename: `${stem}${BUNDLE_EXTENSION}`,
        data: file.toString('base64'),
        bytes: file.length,
        contentHash,
        runIds: content.runs.map((r) => r.sourceId),
      };
    },
    'bundles:import': ({ filename, data }) => {
      const { content, contentHash } = decodeBundle(Buffer.from(data, 'base64'), filename);
      return importBundle(store, content, contentHash, filename);
    },
    'runs:rerun': (input) => rerunRun(store, manager, input),
    'runs:reruns': ({ id }) => {
      if (!store.runs.get(id)) throw new LabError('not_found', `run ${id} does not exist`, [{ path: 'id', message: `no run with id ${id}` }]);
      return rerunLinks(store, id);
    },
  };
}
