export interface ScheduleOptions {
  lr: number;
  steps: number;
  warmupSteps: number;
  schedule: 'linear' | 'cosine' | 'constant';
}

/**
 * The learning rate of optimiser step `step` (1-based), following transformers' get_{linear,cosine,constant}_
 * schedule_with_warmup as the Trainer steps it (its counter is 0 at the first update), so a run exported to
 * TRL takes the same learning rates: warm-up lr·k/W, then decay to 0 at `steps`.
 */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  const k = step - 1;
  if (k < o.warmupSteps) return (o.lr * k) / Math.max(1, o.warmupSteps);
  if (o.schedule === 'constant') return o.lr;
  const span = Math.max(1, o.steps - o.warmupSteps);
  if (o.schedule === 'linear') return o.lr * Math.max(0, (o.steps - k) / span);
  const progress = (k - o.warmupSteps) / span;
  return o.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
