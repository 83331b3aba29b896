import { bdpo } from './bdpo';
import { cdpo } from './cdpo';
import { dpo } from './dpo';
import { hinge } from './hinge';
import { ipo } from './ipo';
import { LOSS_NAMES, isLossName, unknownLossMessage, type CustomLossSpec, type LossName } from '@shared/losses';
import { customLossDefinition } from './formula';
import { nbdpoAsymm, nbdpoSymm } from './nbdpo';
import { nbdpo2Asymm, nbdpo2Symm } from './nbdpo2';
import type { LossDefinition } from './types';

/** Every loss by name. Typed as a full Record so adding a name in names.ts fails to compile until it has an entry. */
export const LOSSES: Readonly<Record<LossName, LossDefinition>> = {
  dpo,
  'nbdpo-asymm': nbdpoAsymm,
  'nbdpo-symm': nbdpoSymm,
  'nbdpo2-asymm': nbdpo2Asymm,
  'nbdpo2-symm': nbdpo2Symm,
  bdpo,
  ipo,
  cdpo,
  hinge,
};

export function getLoss(name: string): LossDefinition {
  if (!isLossName(name)) throw new Error(unknownLossMessage(name));
  return LOSSES[name];
}

/**
 * A run config's loss: the built-in it names, or its custom loss's formula compiled (loss 'custom'). `builtIn`
 * looks up built-ins (tests inject their own).
 */
export function lossOfConfig(c: { loss: string; customLoss?: CustomLossSpec | null }, builtIn: (name: string) => LossDefinition = getLoss): LossDefinition {
  if (c.loss !== 'custom') return builtIn(c.loss);
  if (!c.customLoss) throw new Error("loss 'custom' needs customLoss: { name, formula }");
  return customLossDefinition(c.customLoss);
}

/** All losses in display order (LOSS_NAMES), which also fixes their colours in the UI. */
export function listLosses(): LossDefinition[] {
  return LOSS_NAMES.map((n) => LOSSES[n]);
}
