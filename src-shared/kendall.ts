/**
 * Kendall's rank correlation τ-b between two scorings of the same items (Kendall 1945): ties in either scoring
 * are allowed, so the paper's Table 1, where two losses share 4.45, can be compared with ours. Pure and
 * browser-safe.
 */

/**
 * τ-b = (n_c − n_d) / √((n_0 − n_1)(n_0 − n_2)) over all n_0 = n(n−1)/2 pairs, n_1 / n_2 = pairs tied in x / in y.
 * Null when it is undefined: fewer than two items, or one scoring ties every pair.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError(`kendallTauB: ${x.length} values against ${y.length}`);
  const n = x.length;
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) concordant++;
        else discordant++;
      }
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denom = Math.sqrt((pairs - tiedX) * (pairs - tiedY));
  return denom > 0 ? (concordant - discordant) / denom : null;
}

/** Names ordered best first by a score (higher is better); equal scores keep the given order. */
export function rankByScore(names: readonly string[], score: (name: string) => number): string[] {
  return names
    .map((name, i) => ({ name, i, s: score(name) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((e) => e.name);
}
