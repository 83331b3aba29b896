/**
 * Frame time of the live run page with 20k points per series. Drives the page through the same path live data
 * takes (run:metrics events → RunSeries → batched, budgeted redraws per animation frame) and measures, in the page:
 *  - the interval between animation frames while new rows keep arriving (what a user feels),
 *  - the redraw work done per frame (all charts that were due),
 *  - one redraw of a single chart (the loss chart) as the app does it, and with all 20k raw points.
 * Use on a run page (#/runs/<id>) of a finished run, so no real events interleave.
 */
import type { Page } from 'playwright-core';

export const RUN_PAGE_METRICS = [
  'loss',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
  'rewards/chosen',
  'rewards/rejected',
  'balance/log10_prob_ratio',
  'expectedUtility',
  'pBest',
  'oodMass',
  'klToRef',
  'grad_norm',
  'balance/param_grad_norm_chosen',
  'balance/param_grad_norm_rejected',
  'warmup/loss',
  'warmup/grad_norm',
];

export interface FrameStats {
  pointsPerSeries: number;
  series: number;
  charts: number;
  frames: number;
  /** interval between animation frames while streaming, ms */
  interval: { mean: number; p50: number; p95: number; max: number };
  /** time in the batched redraw of every chart, per frame, ms */
  redraw: { mean: number; p50: number; p95: number; max: number };
  /** one redraw of the loss chart as the app does it (decimated data), ms */
  singleChartRedraw: { mean: number; p50: number; p95: number };
  /** one setOption of the loss chart with all 20k raw points (ECharts LTTB only), ms, for reference */
  singleChartRaw: { mean: number; p50: number; p95: number };
}

export async function measureChartFrame(
  page: Page,
  opts: { runId: number; pointsPerSeries?: number; frames?: number; stepsPerFrame?: number; startStep?: number },
): Promise<FrameStats> {
  const args = {
    runId: opts.runId,
    points: opts.pointsPerSeries ?? 20_000,
    frames: opts.frames ?? 120,
    stepsPerFrame: opts.stepsPerFrame ?? 10,
    startStep: opts.startStep ?? 1_000,
    names: RUN_PAGE_METRICS,
  };
  return page.evaluate(async (a) => {
    type Hooks = {
      charts: Map<string, { setOption(o: unknown, x?: unknown): void; getOption(): { series: { data: unknown[] }[] } }>;
      frameTimes?: number[];
      injectEvent(e: unknown): void;
    };
    const hooks = (window as unknown as { __dpoLab: Hooks }).__dpoLab;
    const raf = () => new Promise<number>((r) => requestAnimationFrame(r));
    let step = a.startStep;
    const push = (n: number) => {
      const steps: number[] = [];
      const nameIdx: number[] = [];
      const values: number[] = [];
      for (let s = 0; s < n; s++, step++) {
        for (let k = 0; k < a.names.length; k++) {
          steps.push(step);
          nameIdx.push(k);
          values.push(Math.sin(step / 500 + k) + 0.1 * Math.random());
        }
      }
      hooks.injectEvent({ type: 'run:metrics', runId: a.runId, steps, names: a.names, nameIdx, values });
    };
    const stats = (xs: number[]) => {
      const s = [...xs].sort((x, y) => x - y);
      const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
      return { mean: xs.reduce((x, y) => x + y, 0) / xs.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
    };
    // Fill to the target size in worker-sized chunks.
    while (step - a.startStep < a.points) {
      push(Math.min(2000, a.points - (step - a.startStep)));
      await raf();
    }
    await raf();
    await raf();
    // Stream: a few new rows every frame, as a fast run would deliver them.
    hooks.frameTimes = [];
    const intervals: number[] = [];
    let last = await raf();
    for (let f = 0; f < a.frames; f++) {
      push(a.stepsPerFrame);
      const now = await raf();
      intervals.push(now - last);
      last = now;
    }
    const redraw = hooks.frameTimes;
    hooks.frameTimes = undefined;
    // One chart alone: the app's redraw (decimated), then all raw points for reference.
    const chart = hooks.charts.get('chart-loss')!;
    const held = Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points'));
    const drawn = chart.getOption().series[0].data;
    const raw: [number, number][] = Array.from({ length: held }, (_, i) => [i, Math.sin(i / 500)]);
    const time = async (data: unknown[]) => {
      const xs: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        chart.setOption({ series: [{ id: 'loss', data: data.slice() }] }, { silent: true });
        xs.push(performance.now() - t0);
        await raf();
      }
      const s = stats(xs);
      return { mean: s.mean, p50: s.p50, p95: s.p95 };
    };
    const singleChartRedraw = await time(drawn);
    const singleChartRaw = await time(raw);
    return {
      pointsPerSeries: held,
      series: a.names.length,
      charts: [...hooks.charts.keys()].filter((k) => k.startsWith('chart-')).length,
      frames: a.frames,
      interval: stats(intervals),
      redraw: stats(redraw),
      singleChartRedraw,
      singleChartRaw,
    };
  }, args);
}
