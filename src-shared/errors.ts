/**
 * How failures cross every boundary (IPC, HTTP, CLI): one error-code union, each code's HTTP status and CLI
 * exit code, the envelope, and the one formatter that turns zod issues into messages naming the field.
 */
import type { z } from 'zod';

export const ERROR_CODES = [
  'invalid_input',
  'not_found',
  'conflict',
  'unauthorised',
  'forbidden',
  'too_large',
  'cancelled',
  'internal',
  // the lab database could not be written or read: what failed is the storage, and the message names the file
  'disk_full',
  'read_only',
  'damaged',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What the web server answers for each code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  unauthorised: 401,
  forbidden: 403,
  too_large: 413,
  cancelled: 499,
  internal: 500,
  disk_full: 507,
  // 409, not 403: the request is fine and allowed; the database's current state (read-only) refuses it
  read_only: 409,
  damaged: 500,
};

/** The CLI's exit codes: 0 done, 1 failed, 2 bad input (usage), 130 cancelled (as after Ctrl-C). */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;
export const EXIT_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid_input: EXIT.usage,
  not_found: EXIT.usage,
  conflict: EXIT.failed,
  unauthorised: EXIT.failed,
  forbidden: EXIT.failed,
  too_large: EXIT.usage,
  cancelled: EXIT.cancelled,
  internal: EXIT.failed,
  disk_full: EXIT.failed,
  read_only: EXIT.failed,
  damaged: EXIT.failed,
};

export interface FieldIssue {
  /** path of the offending field, e.g. "config.lr" or "rows[3]" */
  path: string;
  message: string;
}

export interface LabErrorBody {
  code: ErrorCode;
  message: string;
  issues?: FieldIssue[];
}

/** The envelope that crosses IPC and HTTP: errors travel as data, never as stack traces. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: LabErrorBody };

export class LabError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'LabError';
  }
  toBody(): LabErrorBody {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
}

/** "config.lr", "rows[3]", "grid.lr[2]": dots between names, brackets around indices. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out || '(input)';
}

/** The zod issue fields plainMessage reads (zod 4's issue union, loosely). */
interface IssueLike {
  code: string;
  message: string;
  path: readonly PropertyKey[];
  expected?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
}

/**
 * The schema's own wording when it has one; else zod's generic text ("Invalid input: expected int, received
 * number", "Too small: expected number to be >0") said in plain words that name the field ("K must be a whole
 * number", "lr must be greater than 0").
 */
function plainMessage(i: IssueLike): string {
  const generic = /^(invalid input|too small|too big|invalid)\b/i.test(i.message) || !i.message.trim();
  if (!generic) return i.message;
  const field = String([...i.path].reverse().find((k) => typeof k === 'string') ?? 'value');
  const n = (v: unknown) => Number(v);
  switch (i.code) {
    case 'invalid_type': {
      if (/received undefined/.test(i.message)) return `${field} is required`;
      const kinds: Record<string, string> = {
        int: 'a whole number',
        number: 'a number',
        string: 'text',
        boolean: 'true or false',
        array: 'a list',
        object: 'an object',
      };
      return `${field} must be ${kinds[String(i.expected)] ?? String(i.expected)}`;
    }
    case 'too_small':
      return i.inclusive === false ? `${field} must be greater than ${n(i.minimum)}` : `${field} must be at least ${n(i.minimum)}`;
    case 'too_big':
      return i.inclusive === false ? `${field} must be less than ${n(i.maximum)}` : `${field} must be at most ${n(i.maximum)}`;
    case 'not_multiple_of':
      return `${field} must be a whole number`;
    case 'invalid_value':
      return `${field} has a value the lab does not know`;
    default:
      return i.message || `${field} is not valid`;
  }
}

/** One issue per bad field, with its path (prefixed, e.g. "config") and a message that names the field. */
export function issuesFromZod(err: z.ZodError, prefix = ''): FieldIssue[] {
  return err.issues.map((i) => ({ path: formatPath(i.path, prefix), message: plainMessage(i as unknown as IssueLike) }));
}

/**
 * Issues as one line each ("lr: lr must be positive"), or joined with `sep`. `rename` maps a top-level field
 * to what the user typed (the CLI names its flags: "--lr").
 */
export function formatIssues(issues: readonly FieldIssue[], opts: { rename?: (path: string) => string; sep?: string } = {}): string {
  const rename = opts.rename ?? ((p: string) => p);
  return issues.map((i) => `${rename(i.path)}: ${i.message}`).join(opts.sep ?? '; ');
}

export function formatZodIssues(err: z.ZodError, opts: { prefix?: string; rename?: (path: string) => string; sep?: string } = {}): string {
  return formatIssues(issuesFromZod(err, opts.prefix), opts);
}

/** A LabError from any thrown value: LabErrors pass through, anything else is 'internal'. */
export function toErrorBody(err: unknown): LabErrorBody {
  if (err instanceof LabError) return err.toBody();
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
