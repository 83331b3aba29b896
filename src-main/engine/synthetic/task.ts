/**
 * The synthetic preference task of the paper (§6.1, Appendix B; spec: shared/specs/synthetic.md):
 * prompts and responses 0..K−1, utility u(y|x) = exp(−α(y−x)²), Bradley–Terry labels, an OOD mask, and the
 * offline dataset drawn once per seed.
 */
import type { SyntheticConfig } from '@shared/synthetic-config';
import type { SyntheticDataset } from './dataset';
import { Rng, STREAMS } from './rng';

/** u(y|x) = exp(−α (y−x)²); the best response is y = x (utility 1). */
export function utility(y: number, x: number, alpha: number): number {
  return Math.exp(-alpha * (y - x) * (y - x));
}

/** U[x][y] = u(y|x). */
export function utilityMatrix(K: number, alpha: number): number[][] {
  return Array.from({ length: K }, (_, x) => Array.from({ length: K }, (_, y) => utility(y, x, alpha)));
}

/**
 * Ũ[x][y] = u(y|x) / Z_x with Z_x = Σ_y u(y|x): the paper's u(y|x) ∝ e^{−α(y−x)²} read as a distribution over y
 * for each x (synthetic.md § Metrics, expectedUtilityNormalized). Preferences are unchanged (Bradley–Terry is
 * scale-free per prompt); only the metric's scale moves to the paper's.
 */
export function normalizedUtilityMatrix(K: number, alpha: number): number[][] {
  return utilityMatrix(K, alpha).map((row) => {
    const z = row.reduce((a, b) => a + b, 0);
    return row.map((u) => u / z);
  });
}

/** Bradley–Terry, eq. 33: P(y1 ≻ y2 | x) = u(y1|x) / (u(y1|x) + u(y2|x)). */
export function preferenceProbability(y1: number, y2: number, x: number, alpha: number): number {
  const u1 = utility(y1, x, alpha);
  const u2 = utility(y2, x, alpha);
  return u1 / (u1 + u2);
}

/** How many cells a mask fraction asks for: round(mask·K²). */
export function maskTarget(K: number, mask: number): number {
  return Math.round(mask * K * K);
}

/**
 * Draws the OOD mask: visits the K² cells in a uniformly random order (seeded stream "mask") and masks each
 * one unless that would leave its prompt with fewer than 2 unmasked responses, until round(mask·K²) cells are
 * masked or no cell is left (at most K(K−2) can be masked). Returns the cells as [x, y], sorted.
 */
export function drawMask(K: number, mask: number, seed: number): [number, number][] {
  const target = maskTarget(K, mask);
  if (target === 0) return [];
  const rng = new Rng(seed, STREAMS.mask);
  const cells = rng.shuffle(Array.from({ length: K * K }, (_, i) => i));
  const left = new Array<number>(K).fill(K);
  const out: [number, number][] = [];
  for (const c of cells) {
    if (out.length >= target) break;
    const x = Math.floor(c / K);
    if (left[x] <= 2) continue; // skip: the prompt would keep fewer than 2 responses
    left[x]--;
    out.push([x, c % K]);
  }
  return out.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

/** masked[x][y] = true for the listed cells. */
export function maskMatrix(K: number, cells: readonly (readonly [number, number])[]): boolean[][] {
  const m = Array.from({ length: K }, () => new Array<boolean>(K).fill(false));
  for (const [x, y] of cells) m[x][y] = true;
  return m;
}

export type DatasetParams = Pick<SyntheticConfig, 'K' | 'alpha' | 'mask' | 'seed' | 'pairsPerPrompt'>;

/**
 * The offline dataset of one seed: the mask (stream "mask"), then for each prompt x = 0..K−1 in order,
 * `pairsPerPrompt` pairs (stream "dataset"): y1 uniform over x's unmasked responses, y2 uniform over the
 * others (so y1 ≠ y2, and the unordered pair is uniform), then y1 wins with the Bradley–Terry probability.
 * Pairs are stored as [x, yWinner, yLoser], grouped by prompt.
 */
export function generateDataset(p: DatasetParams): SyntheticDataset {
  const { K, alpha, pairsPerPrompt } = p;
  const mask = drawMask(K, p.mask, p.seed);
  const masked = maskMatrix(K, mask);
  const rng = new Rng(p.seed, STREAMS.dataset);
  const pairs: [number, number, number][] = [];
  for (let x = 0; x < K; x++) {
    const allowed: number[] = [];
    for (let y = 0; y < K; y++) if (!masked[x][y]) allowed.push(y);
    const n = allowed.length; // ≥ 2 by construction of the mask
    for (let i = 0; i < pairsPerPrompt; i++) {
      const i1 = rng.int(n);
      let i2 = rng.int(n - 1);
      if (i2 >= i1) i2++;
      const y1 = allowed[i1];
      const y2 = allowed[i2];
      const y1Wins = rng.next() < preferenceProbability(y1, y2, x, alpha);
      pairs.push(y1Wins ? [x, y1, y2] : [x, y2, y1]);
    }
  }
  return { K, alpha, mask, pairs };
}

/**
 * Summary numbers of a policy π (probs[x][y]) against the task; see synthetic.md § Metrics. A type alias (not an
 * interface) so it is assignable to Record<string, number>.
 */
export type PolicyStats = {
  /** R = Σ_x Σ_y π(y|x) u(y|x), in (0, K] */
  expectedUtility: number;
  /** R̃ = Σ_x Σ_y π(y|x) u(y|x) / Z_x, Z_x = Σ_y u(y|x): the paper's scale, in (0, K) */
  expectedUtilityNormalized: number;
  /** mean_x π(x|x) */
  pBest: number;
  /** mean_x Σ_{masked y} π(y|x) */
  oodMass: number;
  /** mean_x KL(π(·|x) ‖ πref(·|x)) */
  klToRef: number;
};

/**
 * Plain-JS (Float64) version of the eval metrics, for tests and for callers holding a probability matrix.
 * The trainer computes the same numbers on the tensor side.
 */
export function policyStats(
  probs: readonly (readonly number[])[],
  refProbs: readonly (readonly number[])[],
  alpha: number,
  maskCells: readonly (readonly [number, number])[],
): PolicyStats {
  const K = probs.length;
  const masked = maskMatrix(K, maskCells);
  const Un = normalizedUtilityMatrix(K, alpha);
  let eu = 0;
  let eun = 0;
  let best = 0;
  let ood = 0;
  let kl = 0;
  for (let x = 0; x < K; x++) {
    best += probs[x][x];
    for (let y = 0; y < K; y++) {
      const p = probs[x][y];
      eu += p * utility(y, x, alpha);
      eun += p * Un[x][y];
      if (masked[x][y]) ood += p;
      if (p > 0) kl += p * (Math.log(p) - Math.log(refProbs[x][y]));
    }
  }
  return { expectedUtility: eu, expectedUtilityNormalized: eun, pBest: best / K, oodMass: ood / K, klToRef: kl / K };
}
