/**
 * Custom (formula) losses on the command line: `--loss-formula "EXPR"` (with `--loss-name NAME`), or
 * `--loss-name NAME` alone for a custom loss saved in the lab. A bad formula is a usage error (exit 2) that
 * shows the formula with a caret under the offending character.
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { formatFormulaError, parseFormula } from '@shared/formula';
import { CustomLossNameSchema, MAX_FORMULA_LENGTH } from '@shared/custom-losses';
import { isLossName, unknownLossMessage, type CustomLossSpec, type LossChoice } from '@shared/losses';
import { canonicalLossName } from '@shared/trl';
import { CliInputError } from './options';
import { call } from './common';
import type { Lab } from '../api/lab';

export function addCustomLossOptions<T extends Command>(cmd: T): T {
  return cmd
    .option('--loss-formula <expr>', 'a loss written as a formula (see README: Custom losses); with --loss, one more run beside those')
    .option('--loss-name <name>', 'name of the formula loss (default: "formula" and a short hash); alone: a custom loss saved in the lab');
}

/** The formula of a flag, checked; a bad one throws a CliInputError showing where it fails. */
export function checkedFormula(flag: string, source: string): string {
  if (source.length > MAX_FORMULA_LENGTH) throw new CliInputError(`${flag}: the formula is ${source.length} characters long; at most ${MAX_FORMULA_LENGTH}`);
  const r = parseFormula(source);
  if (!r.ok) throw new CliInputError(`${flag}: invalid loss formula (at character ${r.error.index + 1}):\n${formatFormulaError(source, r.error)}`);
  return source;
}

/** The custom loss the flags ask for, or undefined. Reads the saved custom losses only for `--loss-name` alone. */
export async function customLossFromFlags(lab: Lab, flags: Record<string, unknown>): Promise<CustomLossSpec | undefined> {
  const formula = typeof flags.lossFormula === 'string' ? checkedFormula('--loss-formula', flags.lossFormula) : undefined;
  const name = typeof flags.lossName === 'string' ? flags.lossName : undefined;
  if (name !== undefined) {
    const r = CustomLossNameSchema.safeParse(name);
    if (!r.success) throw new CliInputError(`--loss-name: "${name}" ${r.error.issues[0]?.message ?? 'is not a valid name'}`);
  }
  if (formula !== undefined) return { name: name?.trim() ?? `formula ${createHash('sha256').update(formula).digest('hex').slice(0, 6)}`, formula };
  if (name === undefined) return undefined;
  const saved = await call(lab, 'losses:listCustom', {});
  const hit = saved.find((c) => c.name === name.trim());
  if (!hit)
    throw new CliInputError(
      `--loss-name: no saved custom loss "${name}"${saved.length ? ` (saved: ${saved.map((c) => c.name).join(', ')})` : ''}; give its formula with --loss-formula`,
    );
  return { name: hit.name, formula: hit.formula };
}

/** `--loss dpo,bdpo,custom` (or TRL's names): one run per loss; 'custom' is the --loss-formula one. */
export function lossChoiceList(v: unknown, labelSmoothing: number): LossChoice[] | undefined {
  if (typeof v !== 'string') return undefined;
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s === 'custom' ? s : canonicalLossName(s, labelSmoothing)));
  for (const n of names) if (n !== 'custom' && !isLossName(n)) throw new CliInputError(`--loss: ${unknownLossMessage(n)} (or custom, with --loss-formula)`);
  if (!names.length) throw new CliInputError('--loss: give at least one loss');
  return [...new Set(names)] as LossChoice[];
}

/**
 * The launch's losses and the config's loss fields. A formula with no --loss is one custom run; with
 * `--loss dpo,bdpo` it is one more run beside them (the config then says 'custom' and the runs:start `losses`
 * list gives each run its loss; built-in runs carry no formula).
 */
export function lossesWithCustom(
  listed: LossChoice[] | undefined,
  custom: CustomLossSpec | undefined,
): { losses: LossChoice[] | undefined; loss: Record<string, unknown> } {
  if (!custom) {
    if (listed?.includes('custom')) throw new CliInputError('--loss custom needs --loss-formula "EXPR" (or --loss-name of a saved custom loss)');
    return { losses: listed, loss: listed ? { loss: listed[0] } : {} };
  }
  const losses = listed ? (listed.includes('custom') ? listed : [...listed, 'custom' as const]) : ['custom' as const];
  return { losses: losses.length > 1 ? losses : undefined, loss: { loss: 'custom', customLoss: custom } };
}
