/**
 * The command names alone, for the Electron preload (which must stay tiny and free of Node-only imports).
 * contract.ts checks at compile time that this list and the contract agree.
 */
export const COMMAND_NAME_LIST = [
  'app:info',
  'runs:list',
  'runs:get',
  'runs:start',
  'runs:resume',
  'runs:exportModel',
  'runs:exportTrl',
  'runs:importTrl',
  'models:inspect',
  'datasets:inspect',
  'llm:logps',
  'llm:score',
  'runs:cancel',
  'runs:delete',
  'runs:update',
  'runs:metrics',
  'runs:snapshots',
  'runs:exportCsv',
  'runs:dataset',
  'runs:datasetFile',
  'runs:log',
  'table:exportCsv',
  'theory:compute',
  'loss:inspect',
  'sweeps:list',
  'sweeps:get',
  'sweeps:start',
  'sweeps:cancel',
  'evals:start',
  'evals:list',
  'evals:get',
  'evals:responses',
  'evals:exportCsv',
  'evals:cancel',
  'evals:delete',
  'stats:compute',
  'scorers:train',
  'scorers:list',
  'scorers:get',
  'scorers:cancel',
  'bundles:export',
  'bundles:import',
  'runs:rerun',
  'runs:reruns',
] as const;

export const EVENT_CHANNEL = 'lab:event';
export const SAVE_FILE_CHANNEL = 'lab:saveFile';
export const channelOf = (command: string): string => `lab:${command}`;
