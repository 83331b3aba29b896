import { Rng } from '../../synthetic/rng';

/**
 * A held-out split by seed: a seeded shuffle picks round(n·evalFraction) items for evaluation (at least one when
 * the fraction is above 0 and there are two or more items, and never all of them); both parts keep the file's order.
 */
export function splitPairs<T>(items: readonly T[], evalFraction: number, seed: number): { train: T[]; eval: T[] } {
  const n = items.length;
  // never every item: a one-pair file trains on its pair rather than failing with nothing to train on
  let k = Math.min(Math.round(n * evalFraction), Math.max(0, n - 1));
  if (evalFraction > 0 && n >= 2) k = Math.max(1, k);
  const idx = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed, 'llm-split');
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const held = new Set(idx.slice(0, k));
  return { train: items.filter((_, i) => !held.has(i)), eval: items.filter((_, i) => held.has(i)) };
}
