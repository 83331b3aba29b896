/**
 * The report's figures from plain run data, each an SVG string: Figure 2 (final π(y|x) of DPO beside bDPO at
 * each mask, the lowest seed's runs), the balance diagnostics over training (one curve per loss, the mean over
 * seeds, in the app's loss colours) and Figure 1 (the theory explorer's three settings, both samplings).
 */
import { PAPER_LOSSES } from '@shared/losses';
import { lossColor } from '@shared/loss-colors';
import { FIGURE1_PRESETS, THEORY_SAMPLINGS } from '@shared/theory';
import type { Series } from '@shared/runs';
import { computeTheory } from '../engine/synthetic/theory';
import { heatmapsSvg } from './heatmap-render';
import { downsample, lineChartSvg } from './charts';

export interface ReportRun {
  id: number;
  loss: string;
  mask: number;
  seed: number;
  final: Record<string, number> | null;
  /** the last K×K policy snapshot, null when the run stored none */
  probs: number[][] | null;
  /** the (x, y) pairs its dataset left out (the mask), when known */
  masked?: [number, number][];
  /** per-step metrics the curves need */
  series: Record<string, Series>;
}

export interface ReportFigure {
  /** file-name-safe id, e.g. figure2-mask0.2 */
  id: string;
  title: string;
  caption: string;
  svg: string;
}

/** Metrics drawn over training, with how to read them. */
export const CURVE_METRICS = [
  {
    name: 'balance/log10_prob_ratio',
    title: 'Probability-space balance log₁₀ ρ',
    yName: 'log₁₀ ρ (batch mean)',
    refY: 0,
    caption:
      'ρ = |∂L/∂π(y_w)| / |∂L/∂π(y_l)| (the paper’s eqs. 2 and 30), batch mean of log₁₀ ρ per step: 0 is balanced, below 0 the rejected response gets the larger push (negative imbalance).',
  },
  {
    name: 'balance/logp_grad_ratio',
    title: 'Log-prob-space gradient ratio |g_w| / |g_l|',
    yName: '|g_w| / |g_l|',
    refY: 1,
    caption: '1 for DPO, λ for the nbDPO variants, λ_w/(1−λ_w) for bDPO (losses.md).',
  },
  {
    name: 'expectedUtilityNormalized',
    title: 'R̃ over training',
    yName: 'R̃ (expectedUtilityNormalized)',
    caption: 'The Table 1 metric at each evaluation point.',
  },
] as const;

const maskLabel = (m: number) => m.toFixed(1);

/** DPO beside bDPO, final policies, one figure per mask (the runs with the lowest seed). */
export function figure2Heatmaps(runs: readonly ReportRun[]): ReportFigure[] {
  const masks = [...new Set(runs.map((r) => r.mask))].sort((a, b) => a - b);
  const out: ReportFigure[] = [];
  for (const mask of masks) {
    const pick = (loss: string) =>
      runs.filter((r) => r.mask === mask && r.loss === loss && r.probs).sort((a, b) => a.seed - b.seed || a.id - b.id)[0] as
        (ReportRun & { probs: number[][] }) | undefined;
    const pair = [pick('dpo'), pick('bdpo')].filter((r): r is ReportRun & { probs: number[][] } => !!r);
    if (!pair.length) continue;
    const f = (r: ReportRun, k: string) => (typeof r.final?.[k] === 'number' ? r.final[k].toFixed(2) : '—');
    const panels = pair.map((r) => ({
      title: `${r.loss} · mask ${maskLabel(mask)} · seed ${r.seed}`,
      probs: r.probs,
      marked: r.masked,
      note: `run ${r.id} · R̃ ${f(r, 'expectedUtilityNormalized')} · pBest ${f(r, 'pBest')}`,
    }));
    out.push({
      id: `figure2-mask${maskLabel(mask)}`,
      title: `Figure 2, mask ${maskLabel(mask)}`,
      caption: `Final π(y|x), rows prompt x, columns response y (best response on the diagonal), one 0–1 colour scale.${pair.some((r) => r.masked?.length) ? ' ×: pairs the run’s training data left out (the mask).' : ''}`,
      svg: heatmapsSvg(panels),
    });
  }
  return out;
}

/** Mean over runs of a metric at each step the runs share (runs of one config log the same steps). */
export function meanCurve(runs: readonly ReportRun[], metric: string): [number, number][] {
  const sums = new Map<number, { s: number; n: number }>();
  for (const r of runs) {
    const ser = r.series[metric];
    if (!ser) continue;
    ser.steps.forEach((step, i) => {
      const v = ser.values[i];
      if (v === null || !Number.isFinite(v)) return;
      const acc = sums.get(step) ?? { s: 0, n: 0 };
      acc.s += v;
      acc.n += 1;
      sums.set(step, acc);
    });
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([step, { s, n }]) => [step, s / n]);
}

/** One chart per metric in CURVE_METRICS at one mask: a curve per loss, the mean over its seeds. */
export async function trainingCurves(runs: readonly ReportRun[], mask: number): Promise<ReportFigure[]> {
  const atMask = runs.filter((r) => r.mask === mask);
  const losses = [
    ...PAPER_LOSSES.filter((l) => atMask.some((r) => r.loss === l)),
    ...new Set(atMask.map((r) => r.loss).filter((l) => !PAPER_LOSSES.includes(l as never))),
  ];
  const out: ReportFigure[] = [];
  for (const m of CURVE_METRICS) {
    let xMax = 0;
    const series = losses
      .map((loss) => {
        const mine = atMask.filter((r) => r.loss === loss);
        const curve = meanCurve(mine, m.name);
        xMax = Math.max(xMax, curve.at(-1)?.[0] ?? 0);
        return { name: `${loss} (${mine.length})`, color: lossColor(loss), points: downsample(curve) };
      })
      .filter((s) => s.points.length > 0);
    if (!series.length) continue;
    const seeds = Math.max(...losses.map((l) => atMask.filter((r) => r.loss === l).length));
    const id = `curves-${m.name.replace(/[^\w]+/g, '-')}-mask${maskLabel(mask)}`;
    out.push({
      id,
      title: m.title,
      caption: `${m.caption} Mask ${maskLabel(mask)}; each curve the mean over a loss's runs (number in brackets, up to ${seeds}).`,
      svg: await lineChartSvg({
        id,
        title: m.title,
        subtitle: `mask ${maskLabel(mask)}, mean over seeds`,
        xName: 'training step (after the warm-up)',
        xMin: 0,
        xMax,
        yName: m.yName,
        series,
        refY: 'refY' in m ? m.refY : undefined,
      }),
    });
  }
  return out;
}

const normalise = (v: number[]) => {
  const m = Math.max(...v.map(Math.abs));
  return m > 0 ? v.map((x) => x / m) : v.map(() => 0);
};

/** Figure 1: DPO's w_i and the balanced w_i·p_i for the paper's three settings, uniform and shiftless sampling. */
export async function figure1Charts(): Promise<ReportFigure[]> {
  const out: ReportFigure[] = [];
  for (const sampling of THEORY_SAMPLINGS) {
    for (const preset of FIGURE1_PRESETS) {
      const r = computeTheory({ ...preset.input, sampling });
      const pts = (v: number[]): [number, number][] => normalise(v).map((y, i) => [i, y]);
      const id = `figure1-${preset.input.muP}-${preset.input.muQ}-${sampling}`;
      out.push({
        id,
        title: `μP = ${preset.input.muP}, μQ = ${preset.input.muQ}, ${sampling}`,
        caption: '',
        svg: await lineChartSvg({
          id,
          title: `μP = ${preset.input.muP}, μQ = ${preset.input.muQ}`,
          subtitle: `σ² = ${preset.input.variance}, N = ${preset.input.n}, ${sampling} sampling`,
          xName: 'response i',
          yName: 'normalised to max |·| = 1',
          width: 340,
          height: 260,
          refY: 0,
          yMin: -1.05,
          yMax: 1.05,
          series: [
            { name: 'DPO wᵢ', color: lossColor('dpo'), points: pts(r.w) },
            { name: 'balanced wᵢ·pᵢ', color: lossColor('bdpo'), points: pts(r.wp) },
            { name: 'p', color: '#8c8c8c', points: pts(r.p), dashed: true, faint: true },
            { name: 'q', color: '#59a14f', points: pts(r.q), dashed: true, faint: true },
          ],
        }),
      });
    }
  }
  return out;
}
