/**
 * Reads a flat zod object schema as a list of form fields / CLI flags: kind, bounds, options, default and the
 * metadata attached with `.meta()`. The launcher's inputs and the CLI's flags and --help come from here, so
 * neither keeps its own copy of a bound or a default.
 */
import type { z } from 'zod';
import type { FieldMetaInfo } from './synthetic-config';

export interface SchemaField {
  key: string;
  kind: 'int' | 'float' | 'select' | 'text';
  options?: readonly string[];
  min?: number;
  max?: number;
  default: unknown;
  label: string;
  group: FieldMetaInfo['group'] | '';
  help: string;
  flag: string;
  step?: number;
}

interface Introspectable {
  def: { type: string; defaultValue?: unknown; innerType?: Introspectable };
  meta(): Record<string, unknown> | undefined;
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  options?: readonly string[];
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/^-/, '');
const bound = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) || Math.abs(v) >= Number.MAX_SAFE_INTEGER ? undefined : v;

/**
 * The schema's flat fields (numbers, enums, text). Structured fields (a custom loss's { name, formula }) are not
 * form inputs or single flags; the launcher and the CLI set them their own way (--loss-formula).
 */
export function schemaFields(schema: z.ZodObject): SchemaField[] {
  return Object.entries(schema.shape).flatMap(([key, s]): SchemaField[] => {
    const outer = s as unknown as Introspectable;
    const meta = (outer.meta() ?? {}) as Partial<FieldMetaInfo>;
    let inner = outer;
    let dflt: unknown;
    while (inner.def.innerType) {
      if (inner.def.type === 'default') dflt = inner.def.defaultValue;
      inner = inner.def.innerType;
    }
    const base = {
      key,
      default: dflt,
      label: meta.label ?? key,
      group: meta.group ?? ('' as const),
      help: meta.help ?? '',
      flag: meta.flag ?? `--${kebab(key)}`,
      ...(meta.step !== undefined ? { step: meta.step } : {}),
    };
    if (inner.def.type === 'object') return [];
    if (inner.def.type === 'enum') return [{ ...base, kind: 'select' as const, options: inner.options }];
    if (inner.def.type === 'string') return [{ ...base, kind: 'text' as const }];
    return [{ ...base, kind: inner.isInt ? ('int' as const) : ('float' as const), min: bound(inner.minValue), max: bound(inner.maxValue) }];
  });
}
