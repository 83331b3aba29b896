import type { Command } from 'commander';
import type { z } from 'zod';
import { schemaFields, type SchemaField } from '@shared/schema-fields';
import { formatZodIssues } from '@shared/errors';

export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Commander's option key for a flag ("--ref-steps" → "refSteps"). */
function optionKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function describe(f: SchemaField): string {
  const range =
    f.kind === 'select'
      ? `: ${f.options?.join(', ')}`
      : f.min !== undefined && f.max !== undefined
        ? ` (${f.min}–${f.max})`
        : f.min !== undefined
          ? ` (≥ ${f.min})`
          : '';
  const help = f.kind === 'select' && f.help.includes(':') ? f.help : `${f.help}${range}`;
  return f.default === undefined ? help : `${help} (default ${String(f.default)})`;
}

/**
 * One flag per schema field, with its help, bounds and default taken from the schema itself (no copy to keep
 * in step). `skip` leaves out fields a command sets another way.
 */
export function addSchemaOptions<T extends Command>(cmd: T, schema: z.ZodObject, skip: readonly string[] = []): T {
  for (const f of schemaFields(schema)) {
    if (skip.includes(f.key)) continue;
    cmd.option(`${f.flag} <${f.kind === 'select' ? 'name' : f.kind === 'text' ? 'text' : f.kind === 'int' ? 'n' : 'x'}>`, describe(f));
  }
  return cmd;
}

/**
 * Commander's string options → the schema's parsed output. Numbers are checked as numbers first, and every
 * message names the flag the user typed ("--lr: lr must be positive").
 */
export function valuesFromFlags<S extends z.ZodObject>(schema: S, opts: Record<string, unknown>): z.output<S> {
  const fields = schemaFields(schema);
  const raw: Record<string, unknown> = {};
  for (const f of fields) {
    const v = opts[optionKey(f.flag)];
    if (v === undefined) continue;
    if (f.kind === 'select' || f.kind === 'text') raw[f.key] = v;
    else {
      // Number() also reads "0x14", "0b1" and "1_000"-less oddities; the CLI takes plain decimal numbers only.
      const n = Number(v);
      if (typeof v !== 'string' || !DECIMAL.test(v.trim()) || !Number.isFinite(n))
        throw new CliInputError(`${f.flag}: expected a decimal number, got ${JSON.stringify(v)}`);
      raw[f.key] = n;
    }
  }
  const res = schema.safeParse(raw);
  if (!res.success) {
    const flagOf = new Map(fields.map((f) => [f.key, f.flag]));
    throw new CliInputError(formatZodIssues(res.error, { rename: (p) => flagOf.get(p) ?? p, sep: '\n' }));
  }
  return res.data as z.output<S>;
}
