/**
 * Custom losses saved in the lab: a name and a formula in the loss language (src-shared/formula). The API checks
 * the formula with parseFormula before saving; launchers send a saved loss as `loss: 'custom', customLoss`.
 */
import { z } from 'zod';
import { LOSS_NAMES } from './losses';

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
