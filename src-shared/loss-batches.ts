/**
 * A launcher's pick of losses: built-ins and saved custom (formula) losses side by side. runs:start takes any
 * built-ins plus one custom loss per request (`losses: [..., 'custom']` with config.customLoss), so each further
 * custom loss goes as a request of its own; lossBatches says which.
 */
import type { CustomLossSpec, LossChoice, LossName } from './losses';

export interface LossBatch {
  losses: LossChoice[];
  /** the custom loss this request trains (config.loss is then 'custom') */
  customLoss?: CustomLossSpec;
}

export function lossBatches(builtins: readonly LossName[], customs: readonly CustomLossSpec[]): LossBatch[] {
  if (!customs.length) return builtins.length ? [{ losses: [...builtins] }] : [];
  const [first, ...rest] = customs;
  return [{ losses: [...builtins, 'custom'], customLoss: first }, ...rest.map((c): LossBatch => ({ losses: ['custom'], customLoss: c }))];
}

/** The loss fields of one request's config: the first loss, or 'custom' with its formula; no customLoss otherwise. */
export function batchConfig<T extends Record<string, unknown>>(
  config: T,
  batch: LossBatch,
): Omit<T, 'customLoss'> & { loss: LossChoice; customLoss?: CustomLossSpec } {
  const { customLoss: _drop, ...rest } = config;
  void _drop;
  return batch.customLoss ? { ...rest, loss: 'custom', customLoss: { ...batch.customLoss } } : { ...rest, loss: batch.losses[0] };
}

/** Runs a pick launches per seed. */
export const pickedCount = (builtins: readonly unknown[], customs: readonly unknown[]) => builtins.length + customs.length;

/** A stored run's custom loss, if it trained with one (to clone it into a launcher). */
export function customLossOfConfig(config: Record<string, unknown>): CustomLossSpec | null {
  const c = config.customLoss as { name?: unknown; formula?: unknown } | undefined;
  return config.loss === 'custom' && typeof c?.name === 'string' && typeof c.formula === 'string' ? { name: c.name, formula: c.formula } : null;
}
