import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseJsonText } from '../../util/json-file';
import { lossAndLogpGrads } from './diagnostics';
import { LOSS_NAMES, type LossName } from './names';
import { LOSSES, unknownLossMessage } from './registry';
import type { LossHyper } from './types';

// Messages leave out the field name: describeIssues() prefixes each with its path (e.g. "logp_w[2]: ...").
const logps = z
  .array(z.number({ error: 'must be a finite number' }).finite(), { error: 'must be an array of numbers' })
  .min(1, 'must have at least one entry');

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
      .array(
        z.enum(LOSS_NAMES, { error: (iss) => unknownLossMessage(String(iss.input)) }),
      )
      .min(1, `must name at least one loss (omit it for all: ${LOSS_NAMES.join(', ')})`)
      .optional(),
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

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out || 'input';
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
}

/** Parses and validates the JSON text of an inspect request; errors name `source` and the offending field. */
export function parseLossInspectJson(text: string, source: string): LossInspectInput {
  const raw = parseJsonText(text, source);
  const parsed = LossInspectInputSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${source}: invalid loss input: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** λw = ll / (lw + ll) has no value at lw + ll = 0; say so instead of printing NaN (losses.md). */
function assertBdpoDefined(lw: readonly number[], ll: readonly number[]): void {
  const bad = lw.flatMap((w, i) => (w + ll[i] === 0 ? [i] : []));
  if (bad.length > 0) {
    throw new Error(
      `bdpo is undefined for pair ${bad.join(', ')}: logp_w + logp_l = 0 there, and bdpo's weight ` +
        `λw = logp_l / (logp_w + logp_l) divides by it. Log-probs of real responses are negative.`,
    );
  }
}

/**
 * Per-pair losses and ∂L/∂logp for each requested loss (all when `losses` is omitted), from tfjs autodiff
 * through the same definitions and lossAndLogpGrads the trainers use. Accepts raw input (validated here)
 * or the output of parseLossInspectJson. Throws on any non-finite result rather than returning NaN.
 */
export function inspectLosses(input: LossInspectInputRaw | LossInspectInput): Record<string, LossInspectResult> {
  const parsed = LossInspectInputSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid loss input: ${describeIssues(parsed.error)}`);
  const v = parsed.data;
  const names: readonly LossName[] = v.losses ?? LOSS_NAMES;
  if (names.includes('bdpo')) assertBdpoDefined(v.logp_w, v.logp_l);
  const hyper: LossHyper = { beta: v.beta, clip: v.clip, labelSmoothing: v.label_smoothing };

  const out: Record<string, LossInspectResult> = {};
  const inputs = {
    lw: tf.tensor1d(v.logp_w),
    ll: tf.tensor1d(v.logp_l),
    refW: tf.tensor1d(v.ref_w),
    refL: tf.tensor1d(v.ref_l),
  };
  try {
    for (const name of names) {
      const r = lossAndLogpGrads(LOSSES[name], inputs, hyper);
      const result: LossInspectResult = {
        loss: Array.from(r.perPair.dataSync()),
        grad_w: Array.from(r.gw.dataSync()),
        grad_l: Array.from(r.gl.dataSync()),
      };
      tf.dispose([r.perPair, r.gw, r.gl]);
      for (const [field, values] of Object.entries(result) as [string, number[]][]) {
        const i = values.findIndex((x) => !Number.isFinite(x));
        if (i >= 0) {
          throw new Error(
            `${name} gave a non-finite ${field} (${values[i]}) for pair ${i}; ` +
              `the computation runs in float32, so inputs beyond about ±3.4e38 overflow`,
          );
        }
      }
      out[name] = result;
    }
  } finally {
    tf.dispose(Object.values(inputs));
  }
  return out;
}
