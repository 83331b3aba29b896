import fs from 'node:fs';
import { createLab, type Lab } from '../api/lab';
import type { CommandName, CommandOutputs, Envelope } from '@shared/contract';
import type { LabEvent } from '@shared/events';
import { resolveDbPath } from '../store/paths';
import { childWorkerLauncher } from '../runner/launch-child';
import { BACKEND_PREFERENCES, type BackendPreference } from '@shared/backends';
import { EXIT, EXIT_CODE, formatIssues, LabError, type ErrorCode } from '@shared/errors';
import { CliInputError } from './options';
import { showProgress } from './progress';

/** Set by commands that keep serving after their action returns (serve). */
export const lifecycle = { keepAlive: false };

export interface GlobalOpts {
  db?: string;
  json?: boolean;
  backend?: string;
}

export function parseBackendFlag(flag: string | undefined): BackendPreference | undefined {
  if (flag === undefined) return undefined;
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(flag))
    throw new CliInputError(`--backend: expected one of ${BACKEND_PREFERENCES.join(', ')}, got "${flag}"`);
  return flag as BackendPreference;
}

export function openLab(opts: GlobalOpts, mode: 'cli' | 'web' = 'cli'): Lab {
  const backend = parseBackendFlag(opts.backend);
  return createLab({ dbFile: resolveDbPath(opts.db), mode, launcher: childWorkerLauncher(), backend });
}

/** A lab for commands that only compute (loss, theory): same service, no database file touched. */
export function openComputeLab(opts: GlobalOpts): Lab {
  const backend = parseBackendFlag(opts.backend);
  return createLab({ dbFile: ':memory:', mode: 'cli', launcher: childWorkerLauncher(), backend });
}

/** A service failure on its way out of the CLI: its message, and the exit code its error code maps to. */
export class CliCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code: ErrorCode = 'internal',
  ) {
    super(message);
    this.name = 'CliCommandError';
  }
}

/**
 * A command's failure on its way out: one line on stderr ("error: …", never a stack trace) and, under --json, the
 * same failure as JSON on stdout ({ ok: false, error: { code, message } }, as the HTTP API answers), so a script
 * reading stdout always gets JSON. Returns the exit code.
 */
export function reportFailure(err: unknown, json: boolean): number {
  let code: ErrorCode = 'internal';
  let exitCode: number = EXIT.failed;
  if (err instanceof CliInputError) [code, exitCode] = ['invalid_input', EXIT.usage];
  else if (err instanceof CliCommandError) [code, exitCode] = [err.code, err.exitCode];
  else if (err instanceof LabError) [code, exitCode] = [err.code, EXIT_CODE[err.code]];
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: { code, message } }) + '\n');
  return exitCode;
}

/** Calls a service command and unwraps its envelope; a failure becomes a CliCommandError with its message. */
export async function call<C extends CommandName>(lab: Lab, command: C, input: unknown, prefix = ''): Promise<CommandOutputs[C]> {
  const res = (await lab.service.invoke(command, input)) as Envelope<CommandOutputs[C]>;
  if (res.ok) return res.value;
  // `prefix` names the input file the issues point into ("pairs.json: invalid loss input: ").
  const msg = res.error.issues?.length ? prefix + formatIssues(res.error.issues, { sep: prefix ? '; ' : '\n' }) : res.error.message;
  throw new CliCommandError(msg, EXIT_CODE[res.error.code], res.error.code);
}

export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human() + '\n');
}

/** Waits until every run has ended (done, failed or cancelled), with a progress bar; Ctrl-C cancels them. */
export async function waitForRuns(lab: Lab, runIds: number[], label: string): Promise<void> {
  const onEvent = (cb: (e: LabEvent) => void) => lab.service.onEvent(cb);
  const stop = showProgress(onEvent, runIds, label);
  const open = new Set(runIds);
  let off = () => {};
  const ended = new Promise<void>((resolve) => {
    off = onEvent((e) => {
      if (e.type === 'run:status' && TERMINAL.has(e.status)) open.delete(e.runId);
      if (open.size === 0) resolve();
    });
  });
  // Runs that ended before we listened (or were never queued) are settled by their stored status.
  for (const id of runIds) {
    const run = await call(lab, 'runs:get', { id });
    if (TERMINAL.has(run.status)) open.delete(id);
  }
  const onSigint = () => runIds.forEach((id) => void lab.service.invoke('runs:cancel', { id }));
  process.on('SIGINT', onSigint);
  try {
    if (open.size) await ended;
  } finally {
    off();
    process.off('SIGINT', onSigint);
    stop();
  }
}

const TERMINAL = new Set<string>(['done', 'failed', 'cancelled']);

export function readInput(file: string): { text: string; source: string } {
  if (file === '-') return { text: fs.readFileSync(0, 'utf8'), source: 'stdin' };
  try {
    return { text: fs.readFileSync(file, 'utf8'), source: file };
  } catch (err) {
    throw new CliInputError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
