import type { z } from 'zod';

export interface FieldIssue {
  /** dotted path of the offending field, e.g. "config.lr" */
  path: string;
  message: string;
}

export interface LabErrorBody {
  code: 'invalid_input' | 'not_found' | 'conflict' | 'internal';
  message: string;
  issues?: FieldIssue[];
}

/** The envelope that crosses IPC and HTTP: errors travel as data, never as stack traces. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: LabErrorBody };

export class LabError extends Error {
  constructor(
    readonly code: LabErrorBody['code'],
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

export function issuesFromZod(err: z.ZodError, prefix = ''): FieldIssue[] {
  return err.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(input)',
    message: i.message,
  }));
}

