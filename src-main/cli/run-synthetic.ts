/**
 * `run synthetic`: one run, or several losses side by side (`--loss dpo,bdpo`) trained as one batched job on
 * the same dataset, as the launcher does. `figure2` reuses it.
 */
import fs from 'node:fs';
import { EXIT } from '@shared/errors';
import { MAX_DATASET_FILE_BYTES, type SyntheticConfig } from '@shared/synthetic-config';
import { lossLabel, type CustomLossSpec, type LossChoice } from '@shared/losses';
import { call, readInput, waitForRuns } from './common';
import type { Lab } from '../api/lab';
import { CliInputError } from './options';
import { parseJsonText } from '../util/json-file';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;

/**
 * A synthetic dataset file, refused before it is read when it is larger than the stated limit (a dataset that
 * size would take minutes to check and gigabytes to hold; the default dataset is about 20 KB).
 */
export function readDatasetFile(file: string, flag = '--dataset'): unknown {
  if (file !== '-') {
    let size: number | undefined;
    try {
      size = fs.statSync(file).size;
    } catch {
      // readInput says what is wrong with the path
    }
    if (size !== undefined && size > MAX_DATASET_FILE_BYTES)
      throw new CliInputError(`${flag}: ${file} is ${mib(size)}, larger than the ${mib(MAX_DATASET_FILE_BYTES)} limit for a dataset file`);
  }
  const { text, source } = readInput(file);
  if (Buffer.byteLength(text) > MAX_DATASET_FILE_BYTES)
    throw new CliInputError(`${flag}: ${source} is larger than the ${mib(MAX_DATASET_FILE_BYTES)} limit for a dataset file`);
  try {
    return parseJsonText(text, source);
  } catch (err) {
    throw new CliInputError((err as Error).message);
  }
}

export interface RunOutcome {
  runId: number;
  status: string;
  config: Record<string, unknown>;
  backend: string | null;
  final: Record<string, number> | null;
  /** the last evaluated K×K policy π(y|x) (rows: prompts), null if none was stored */
  probs: number[][] | null;
  error: string | null;
}

export interface SyntheticLaunch {
  config: SyntheticConfig;
  /** several losses: one run each, side by side on the same data */
  losses?: LossChoice[];
  dataset?: unknown;
  name?: string;
  tags?: string[];
}

/** Starts the runs, waits for them (progress on stderr, Ctrl-C cancels) and reads back how each ended. */
export async function runSyntheticSideBySide(lab: Lab, launch: SyntheticLaunch): Promise<RunOutcome[]> {
  const losses = launch.losses && launch.losses.length > 1 ? launch.losses : undefined;
  const { runIds } = await call(lab, 'runs:start', {
    kind: 'synthetic',
    config: launch.config,
    losses,
    dataset: launch.dataset,
    name: launch.name,
    tags: launch.tags,
  });
  await waitForRuns(
    lab,
    runIds,
    losses
      ? `runs ${runIds.join(', ')} (${losses.map((l) => lossLabel({ ...launch.config, loss: l })).join(' vs ')})`
      : `run ${runIds[0]} ${lossLabel(launch.config)}`,
  );
  return Promise.all(
    runIds.map(async (runId) => {
      const detail = await call(lab, 'runs:get', { id: runId });
      const snaps = await call(lab, 'runs:snapshots', { id: runId, name: 'probs' });
      const probs = snaps.frames.length ? snaps.frames[snaps.frames.length - 1] : null;
      return { runId, status: detail.status, config: detail.config, backend: detail.backend, final: detail.final, probs, error: detail.error };
    }),
  );
}

/** One block per run: its status, backend and final metrics. */
export function outcomesText(outs: readonly RunOutcome[]): string {
  return outs
    .map((o) =>
      [
        `run ${o.runId} ${lossLabel(o.config as { loss: string; customLoss?: CustomLossSpec })} ${o.status}${o.error ? `: ${o.error}` : ''} (${o.backend ?? 'no backend'})`,
        ...Object.entries(o.final ?? {}).map(([k, v]) => `  ${k.padEnd(18)} ${Number(v).toFixed(6)}`),
      ].join('\n'),
    )
    .join('\n');
}

/** The exit code for a set of runs: the worst of their endings. */
export function exitCodeOf(outs: readonly RunOutcome[]): number {
  if (outs.some((o) => o.status === 'failed')) return EXIT.failed;
  if (outs.some((o) => o.status === 'cancelled')) return EXIT.cancelled;
  return outs.every((o) => o.status === 'done') ? EXIT.ok : EXIT.failed;
}
