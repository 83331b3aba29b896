/**
 * Figure 2's heatmaps outside the app: the K×K policy π(y|x) (rows: prompts x, columns: responses y) as text for
 * a terminal and as a standalone SVG for a paper or a slide. Both share one fixed scale, 0 to 1, so panels
 * side by side compare by eye (a per-panel scale would make a flat policy look as sharp as a peaked one).
 */

export interface HeatmapPanel {
  /** e.g. "dpo · run 12" */
  title: string;
  /** K×K probabilities, rows summing to 1 */
  probs: number[][];
  /** a line under the title, e.g. "R = 4.12, pBest = 0.61" */
  note?: string;
  /** [x, y] cells to mark with a cross (e.g. the masked pairs no training data covered) */
  marked?: readonly (readonly [number, number])[];
}

const SHADES = [
  { min: 0.6, char: '█' },
  { min: 0.3, char: '▓' },
  { min: 0.1, char: '▒' },
  { min: 0.02, char: '░' },
] as const;

const shade = (p: number) => SHADES.find((s) => p >= s.min)?.char ?? ' ';

/** The panels side by side in monospace text, two characters per cell, with a legend of the shades. */
export function heatmapsText(panels: readonly HeatmapPanel[]): string {
  const blocks = panels.map((p) => {
    const rows = p.probs.map((row, x) => `${String(x).padStart(3)} │${row.map((v) => shade(v).repeat(2)).join('')}│`);
    const width = Math.max(...rows.map((r) => r.length), p.title.length, (p.note ?? '').length);
    return { lines: [p.title, p.note ?? '', ...rows], width };
  });
  const height = Math.max(...blocks.map((b) => b.lines.length));
  const out: string[] = [];
  for (let i = 0; i < height; i++)
    out.push(
      blocks
        .map((b) => (b.lines[i] ?? '').padEnd(b.width))
        .join('    ')
        .trimEnd(),
    );
  out.push('rows: prompt x, columns: response y (best y = x, the diagonal)');
  out.push(`π(y|x): ${SHADES.map((s) => `${s.char} ≥ ${s.min}`).join('  ')}  (blank < ${SHADES[SHADES.length - 1].min})`);
  return out.join('\n');
}

/** Viridis at five stops, interpolated: perceptually even and readable in greyscale print. */
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
] as const;

export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const c = VIRIDIS[i].map((a, k) => Math.round(a + (VIRIDIS[i + 1][k] - a) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The panels side by side as one SVG document, with axis names and a colour bar for the shared 0–1 scale. */
export function heatmapsSvg(panels: readonly HeatmapPanel[]): string {
  const K = Math.max(...panels.map((p) => p.probs.length));
  const cell = Math.max(4, Math.min(16, Math.floor(320 / Math.max(1, K))));
  const side = cell * K;
  const left = 44;
  const top = 52;
  const gap = 40;
  const barW = 14;
  const width = left + panels.length * (side + gap) + barW + 40;
  const height = top + side + 40;
  const parts: string[] = [];
  panels.forEach((p, n) => {
    const x0 = left + n * (side + gap);
    parts.push(`<text x="${x0 + side / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
    if (p.note) parts.push(`<text x="${x0 + side / 2}" y="36" text-anchor="middle" font-size="11">${esc(p.note)}</text>`);
    p.probs.forEach((row, x) =>
      row.forEach((v, y) =>
        parts.push(
          `<rect x="${x0 + y * cell}" y="${top + x * cell}" width="${cell}" height="${cell}" fill="${viridis(v)}"><title>π(y=${y}|x=${x}) = ${v.toFixed(4)}</title></rect>`,
        ),
      ),
    );
    for (const [x, y] of p.marked ?? []) {
      const cx = x0 + y * cell;
      const cy = top + x * cell;
      const d = cell * 0.3;
      parts.push(
        `<path d="M${cx + d} ${cy + d}L${cx + cell - d} ${cy + cell - d}M${cx + cell - d} ${cy + d}L${cx + d} ${cy + cell - d}" stroke="#ff5a5a" stroke-width="1.2"/>`,
      );
    }
    parts.push(`<rect x="${x0}" y="${top}" width="${side}" height="${side}" fill="none" stroke="#333" stroke-width="0.5"/>`);
    parts.push(`<text x="${x0 + side / 2}" y="${top + side + 18}" text-anchor="middle" font-size="11">response y</text>`);
    parts.push(
      `<text x="${x0 - 8}" y="${top + side / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 - 8} ${top + side / 2})">prompt x</text>`,
    );
  });
  const bx = left + panels.length * (side + gap);
  const steps = 20;
  for (let i = 0; i < steps; i++)
    parts.push(`<rect x="${bx}" y="${top + (i * side) / steps}" width="${barW}" height="${side / steps + 0.5}" fill="${viridis(1 - i / steps)}"/>`);
  parts.push(`<text x="${bx + barW + 4}" y="${top + 8}" font-size="10">1</text>`);
  parts.push(`<text x="${bx + barW + 4}" y="${top + side}" font-size="10">0</text>`);
  parts.push(`<text x="${bx + barW / 2}" y="${top - 6}" text-anchor="middle" font-size="10">π(y|x)</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
