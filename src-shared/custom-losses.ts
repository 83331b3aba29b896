/**
 * Custom losses saved in the lab: a name and a formula in the loss language (src-shared/formula). The API checks
 * the formula with parseFormula before saving; launchers send a saved loss as `loss: 'custom', customLoss`.
 */
import { z } from 'zod';
import { LOSS_NAMES } from './losses';
import { parseFormula } from './formula';

/** Longest formula the lab stores (a named sub-expression or two fit easily; the bound keeps requests small). */
export const MAX_FORMULA_LENGTH = 2000;

export const CustomLossNameSchema = z
  .string()
  .trim()
  .min(1, 'give the loss a name')
  .max(40, 'at most 40 characters')
  .regex(/^[A-Za-z0-9 _.-]+$/, 'use letters, digits, spaces, _ . or -')
  // a custom loss named like a built-in would read as that built-in in every chart and table
  .refine((n) => !(LOSS_NAMES as readonly string[]).includes(n.toLowerCase()) && n.toLowerCase() !== 'custom', {
    message: 'is the name of a built-in loss; choose another',
  });

export const CustomLossSaveSchema = z
  .object({
    name: CustomLossNameSchema,
    formula: z.string().min(1, 'write a formula').max(MAX_FORMULA_LENGTH, `at most ${MAX_FORMULA_LENGTH} characters`),
  })
  .strict();

export interface CustomLossRecord {
  id: number;
  name: string;
  formula: string;
  createdAt: number;
}

/**
 * A formula as a run config or a saved loss carries it: parsed on validation, so a bad one is refused with the
 * character it fails at ("unknown name \"x\" (at character 13)") before anything trains.
 */
export const CustomLossFormulaSchema = z
  .string({ error: 'the formula must be text' })
  .min(1, 'write a formula')
  .max(MAX_FORMULA_LENGTH, `at most ${MAX_FORMULA_LENGTH} characters`)
  .superRefine((source, ctx) => {
    const r = parseFormula(source);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: `${r.error.message} (at character ${r.error.index + 1})` });
  });

/** `customLoss` of a run config (synthetic and LLM): the loss's display name and its formula. */
export const CustomLossSpecSchema = z.object({ name: CustomLossNameSchema, formula: CustomLossFormulaSchema }).strict();

/**
 * The rule both run configs share: `loss: 'custom'` needs a `customLoss`, and a built-in loss takes none (so a
 * built-in run's config reads exactly as it did before custom losses existed).
 */
export function checkCustomLossChoice(c: { loss: string; customLoss?: unknown }, ctx: z.RefinementCtx): void {
  if (c.loss === 'custom' && c.customLoss === undefined)
    ctx.addIssue({ code: 'custom', path: ['customLoss'], message: "loss 'custom' needs customLoss: { name, formula }" });
  if (c.loss !== 'custom' && c.customLoss !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['customLoss'],
      message: `is only read when loss is 'custom' (loss is '${c.loss}'); remove it or set loss to 'custom'`,
    });
}
