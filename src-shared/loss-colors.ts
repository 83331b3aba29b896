/**
 * One colour per loss, everywhere (charts, chips, legends, tables), in LOSS_NAMES order. The palette is
 * Tableau 10 (designed to stay distinguishable under the common colour-vision deficiencies), ordered so the
 * paper's headline pair, dpo and bdpo, are blue and purple and the nbDPO variants sit between them.
 * Runs of one loss with different seeds keep the hue and change lightness.
 */
import { LOSS_NAMES } from './losses';

const PALETTE = [
  '#4e79a7', // dpo: blue
  '#f28e2b', // nbdpo-asymm: orange
  '#e15759', // nbdpo-symm: red
  '#59a14f', // nbdpo2-asymm: green
  '#76b7b2', // nbdpo2-symm: teal
  '#b07aa1', // bdpo: purple
  '#9c755f', // ipo: brown
  '#d4a82a', // cdpo: yellow (darkened from #edc948 so it reads on white)
  '#ff9da7', // hinge: pink
];
const FALLBACK = '#8c8c8c';

export const LOSS_COLORS: Record<string, string> = Object.fromEntries(LOSS_NAMES.map((n, i) => [n, PALETTE[i % PALETTE.length]]));

/**
 * Colours for custom losses, taken from hues the nine built-ins leave free (violet, cyan, olive, magenta, indigo,
 * dark teal), mid-light so they read on both themes; a test keeps each one apart from every built-in colour.
 */
export const CUSTOM_PALETTE = ['#7b4fc9', '#17becf', '#a8a21e', '#e7298a', '#3f51b5', '#00796b'] as const;

/** A custom loss's colour: fixed by its name (FNV-1a hash), so it is the same in every chart and every session. */
export function customLossColor(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return CUSTOM_PALETTE[h % CUSTOM_PALETTE.length];
}

/**
 * Labels in a loss column that are not losses: 'custom' with no name, and the benchmark's 'sft' row (the starting
 * model every loss trains from). They stay grey rather than borrow a custom loss's hue.
 */
const NOT_A_LOSS = new Set(['custom', 'sft']);

/** A loss's colour by its display label: a built-in's own, a custom loss's from its name, grey for what is not a loss. */
export function lossColor(loss: string | null | undefined): string {
  if (!loss || NOT_A_LOSS.has(loss)) return FALLBACK;
  return LOSS_COLORS[loss] ?? customLossColor(loss);
}

/** The label a run's loss goes by: a custom run's saved name, otherwise the loss itself. */
export function runLossLabel(run: { loss: string | null; config: Record<string, unknown> }): string | null {
  if (run.loss !== 'custom') return run.loss;
  const custom = run.config.customLoss as { name?: unknown } | undefined;
  return typeof custom?.name === 'string' ? custom.name : 'custom';
}

function hexToHsl(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const r = ((n >> 16) & 255) / 255;
  const g = ((n >> 8) & 255) / 255;
  const b = (n & 255) / 255;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return [h * 60, s, l];
}

function hsl(h: number, s: number, l: number): string {
  return `hsl(${h.toFixed(0)} ${(s * 100).toFixed(0)}% ${(l * 100).toFixed(0)}%)`;
}

/**
 * The colour of the `index`-th of `count` runs sharing a loss (e.g. seeds 0..4): same hue, lightness spread
 * around the base colour, darkest first.
 */
export function runColor(loss: string | null | undefined, index = 0, count = 1): string {
  const base = lossColor(loss);
  if (count <= 1) return base;
  const [h, s, l] = hexToHsl(base);
  const span = Math.min(0.36, 0.09 * (count - 1));
  const t = count === 1 ? 0.5 : index / (count - 1);
  const light = Math.min(0.85, Math.max(0.22, l - span / 2 + span * t));
  return hsl(h, s, light);
}

/** Colours for a list of runs: same loss → same hue, ordered by seed within the loss. */
export function colorsForRuns(runs: { id: number; loss: string | null; config: Record<string, unknown>; seed: number | null }[]): Map<number, string> {
  const byLoss = new Map<string, { id: number; seed: number }[]>();
  for (const r of runs) {
    const k = runLossLabel(r) ?? '';
    const list = byLoss.get(k) ?? [];
    list.push({ id: r.id, seed: r.seed ?? r.id });
    byLoss.set(k, list);
  }
  const out = new Map<number, string>();
  for (const [loss, list] of byLoss) {
    list.sort((a, b) => a.seed - b.seed || a.id - b.id);
    list.forEach((r, i) => out.set(r.id, runColor(loss || null, i, list.length)));
  }
  return out;
}

/**
 * Chosen vs rejected within one run's chart (the per-side gradient norms): two hues that stay apart under the
 * common colour-vision deficiencies (Okabe–Ito bluish green and vermillion), whatever the loss's own colour.
 */
export const SIDE_COLORS = { chosen: '#009e73', rejected: '#d55e00' } as const;
