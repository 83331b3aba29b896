/**
 * Input and output of loss inspection (`dpo-lab loss --input FILE|-` and the loss:inspect command): per-pair
 * log-probs in, per-pair losses and ∂L/∂logp out, computed by the trainers' own loss code.
 */
import { z } from 'zod';
import { LOSS_NAMES, unknownLossMessage, type LossName } from './losses';
import { TRL_LOSS_TYPES, type TrlLossType } from './trl';
import { CustomLossFormulaSchema } from './custom-losses';

/** Names `losses` takes: the lab's own, and TRL's loss_type names (trl.ts; resolved with label_smoothing). */
const INSPECT_LOSS_NAMES = [...new Set<string>([...LOSS_NAMES, ...TRL_LOSS_TYPES])] as [LossName | TrlLossType, ...(LossName | TrlLossType)[]];

// Messages leave out the field name: describeIssues() prefixes each with its path (e.g. "logp_w[2]: ...").
const logps = z.array(z.number({ error: 'must be a finite number' }).finite(), { error: 'must be an array of numbers' }).min(1, 'must have at least one entry');

const ARRAY_FIELDS = ['logp_w', 'logp_l', 'ref_w', 'ref_l'] as const;

/**
 * Input of `lab loss --input FILE|-`: per-pair log-probs of the policy and the reference plus the loss
 * hyper-parameters. Bounds match the synthetic run config so a value accepted here is one a run accepts.
 */
export const LossInspectInputSchema = z
  .strictObject({
    /** log πθ(y_w|x) per pair */
    logp_w: logps,
    /** log πθ(y_l|x) per pair */
    logp_l: logps,
    /** log πref(y_w|x) per pair */
    ref_w: logps,
    /** log πref(y_l|x) per pair */
    ref_l: logps,
    beta: z.number().finite().positive('must be positive').default(1),
    clip: z.number().finite().positive('must be positive').default(0.5),
    label_smoothing: z.number().min(0, 'must be in [0, 0.5)').lt(0.5, 'must be in [0, 0.5)').default(0),
    losses: z
      .array(z.enum(INSPECT_LOSS_NAMES, { error: (iss) => `${unknownLossMessage(String(iss.input))} (or TRL's ${TRL_LOSS_TYPES.join(', ')})` }))
      .min(1, `must name at least one loss (omit it for all: ${LOSS_NAMES.join(', ')})`)
      .optional(),
    /**
     * A loss formula (src-shared/formula), reported under "custom". With a formula and no `losses`, only the
     * formula is computed; name losses as well to get them beside it.
     */
    formula: CustomLossFormulaSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const n = v.logp_w.length;
    for (const f of ARRAY_FIELDS.slice(1)) {
      if (v[f].length !== n) {
        ctx.addIssue({
          code: 'custom',
          path: [f],
          message: `has ${v[f].length} entries but logp_w has ${n}; logp_w, logp_l, ref_w and ref_l must have the same length`,
        });
      }
    }
  });

export type LossInspectInput = z.output<typeof LossInspectInputSchema>;
export type LossInspectInputRaw = z.input<typeof LossInspectInputSchema>;

export interface LossInspectResult {
  /** Per-pair loss. */
  loss: number[];
  /** Per-pair ∂L/∂logp_w. */
  grad_w: number[];
  /** Per-pair ∂L/∂logp_l. */
  grad_l: number[];
}
