/**
 * Runs the CLI in this process: `main(argv)` from src-main/cli/program.ts, with stdout and stderr captured.
 * Only the behaviour a user sees is checked (output, exit code, the database), never the CLI's internals.
 * Runs still train in worker processes started by the runner, as they do from `dpo-lab`.
 */
import { vi } from 'vitest';
import { main } from '../../src-main/cli/program';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(stream: NodeJS.WriteStream, into: string[]) {
  return vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((x): x is () => void => typeof x === 'function');
    cb?.();
    return true;
  }) as typeof stream.write);
}

/**
 * `dpo-lab --db <db> --backend cpu <args…>` in process. main() sets process.exitCode for commands that
 * finish runs; it is reset afterwards so the test process itself does not exit non-zero.
 */
export async function runCli(db: string, args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [capture(process.stdout, out), capture(process.stderr, err)];
  const exitCodeBefore = process.exitCode;
  let code: number;
  try {
    code = await main(['--db', db, '--backend', 'cpu', ...args]);
  } finally {
    for (const s of spies) s.mockRestore();
    process.exitCode = exitCodeBefore;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
