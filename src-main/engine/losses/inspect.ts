import * as tf from '../tf';
import { parseJsonText } from '../../util/json-file';
import { lossAndLogpGrads } from './diagnostics';
import { LOSS_NAMES, isLossName, type LossName } from '@shared/losses';
import { fromTrlLossType } from '@shared/trl';
import { LossInspectInputSchema, type LossInspectInput, type LossInspectInputRaw, type LossInspectResult } from '@shared/loss-inspect';
import { formatZodIssues } from '@shared/errors';
import { LOSSES } from './registry';
import { customLossDefinition } from './formula';
import type { LossDefinition } from './types';
import type { LossHyper } from './types';

/** Parses and validates the JSON text of an inspect request; errors name `source` and the offending field. */
export function parseLossInspectJson(text: string, source: string): LossInspectInput {
  const raw = parseJsonText(text, source);
  const parsed = LossInspectInputSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${source}: invalid loss input: ${formatZodIssues(parsed.error)}`);
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
 * A TRL loss_type name (`sigmoid`, see @shared/trl) computes the lab's loss with the same formula, given
 * label_smoothing, and its result is keyed by the name as requested.
 */
export function inspectLosses(input: LossInspectInputRaw | LossInspectInput): Record<string, LossInspectResult> {
  const parsed = LossInspectInputSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid loss input: ${formatZodIssues(parsed.error)}`);
  const v = parsed.data;
  const requested: readonly string[] = v.losses ?? (v.formula !== undefined ? [] : LOSS_NAMES);
  const lossOf = (name: string): LossName => (isLossName(name) ? name : fromTrlLossType(name, v.label_smoothing).loss);
  if (requested.some((n) => lossOf(n) === 'bdpo')) assertBdpoDefined(v.logp_w, v.logp_l);
  const hyper: LossHyper = { beta: v.beta, clip: v.clip, labelSmoothing: v.label_smoothing };

  const out: Record<string, LossInspectResult> = {};
  const inputs = {
    lw: tf.tensor1d(v.logp_w),
    ll: tf.tensor1d(v.logp_l),
    refW: tf.tensor1d(v.ref_w),
    refL: tf.tensor1d(v.ref_l),
  };
  try {
    const defs: [string, LossDefinition][] = requested.map((name) => [name, LOSSES[lossOf(name)]]);
    if (v.formula !== undefined) defs.push(['custom', customLossDefinition({ name: 'custom', formula: v.formula })]);
    for (const [name, def] of defs) {
      const r = lossAndLogpGrads(def, inputs, hyper);
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
            `${name} gave a non-finite ${field} (${values[i]}) for pair ${i}; ` + `the computation runs in float32, so inputs beyond about ±3.4e38 overflow`,
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
