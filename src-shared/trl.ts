/**
 * TRL's names for the losses this lab shares with it, so a run or a `loss --input` check can be lined up with
 * Hugging Face TRL's DPOTrainer (`DPOConfig.loss_type`, `label_smoothing`). Only names whose formula is the same
 * as ours (losses.md) are accepted. In TRL's dpo_loss, with logits = (log πθ(y_w) − log πθ(y_l)) −
 * (log πref(y_w) − log πref(y_l)), which is our h = rw − rl:
 *
 * | TRL loss_type | TRL per-pair loss                     | here                                          |
 * |---------------|---------------------------------------|-----------------------------------------------|
 * | sigmoid       | −logσ(β·h)(1−ε) − logσ(−β·h)·ε        | `dpo` when ε = 0, `cdpo` with ε when ε > 0     |
 * | ipo           | (h − 1/(2β))²                         | `ipo`                                         |
 * | hinge         | relu(1 − β·h)                         | `hinge`                                       |
 *
 * Differences to keep in mind when comparing numbers:
 * - TRL's `ipo` first divides each sequence log-prob by its number of completion tokens; `ipo` here uses the
 *   log-probs it is given. For LLM sequences, pass length-averaged log-probs to match TRL (one-token responses,
 *   as in the synthetic lab, need nothing).
 * - TRL's `robust` (robust DPO) also reads label_smoothing but divides by 1 − 2ε: it is not `cdpo` and has no
 *   alias here.
 * - Names are resolved where a user types them; stored runs always carry the lab's own name.
 */
import { LOSS_NAMES, type LossName } from './losses';

/** TRL `loss_type` values with an exact counterpart here. */
export const TRL_LOSS_TYPES = ['sigmoid', 'ipo', 'hinge'] as const;
export type TrlLossType = (typeof TRL_LOSS_TYPES)[number];

export function isTrlLossType(s: string): s is TrlLossType {
  return (TRL_LOSS_TYPES as readonly string[]).includes(s);
}

/**
 * The lab's loss (and label smoothing) for a TRL `loss_type` with TRL's `label_smoothing` ε. `sigmoid` is plain
 * DPO at ε = 0 and conservative DPO (`cdpo`) above; `ipo` and `hinge` ignore ε, in TRL as here, so it is passed
 * through. Throws for a name TRL uses that has no same-formula loss here.
 */
export function fromTrlLossType(lossType: string, labelSmoothing = 0): { loss: LossName; labelSmoothing: number } {
  switch (lossType) {
    case 'sigmoid':
      return { loss: labelSmoothing > 0 ? 'cdpo' : 'dpo', labelSmoothing };
    case 'ipo':
    case 'hinge':
      return { loss: lossType, labelSmoothing };
    default:
      throw new Error(
        `TRL loss_type ${JSON.stringify(lossType)} has no same-formula loss here; TRL names accepted: ${TRL_LOSS_TYPES.join(', ')}` +
          (lossType === 'robust' ? ' (robust DPO divides the cdpo loss by 1 − 2ε, so it is not cdpo)' : ''),
      );
  }
}

/**
 * A loss name as a user typed it → the lab's name: the lab's own names as they are, TRL names through
 * fromTrlLossType (ε decides sigmoid). Anything else is returned unchanged, for the caller's validation to report.
 */
export function canonicalLossName(name: string, labelSmoothing = 0): string {
  if ((LOSS_NAMES as readonly string[]).includes(name)) return name;
  return isTrlLossType(name) ? fromTrlLossType(name, labelSmoothing).loss : name;
}
