/**
 * ECharts, tree-shaken to what the lab draws, and a composable that owns one chart: init on mount, resize with
 * its box, rebuild on theme change, dispose on unmount, one redraw per animation frame however many updates
 * arrive. Charts register themselves under their test id on `window.__dpoLab.charts` for tests and benchmarks.
 */
import * as echarts from 'echarts/core';
import { LineChart, HeatmapChart, CustomChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomComponent,
  MarkLineComponent,
  MarkAreaComponent,
  MarkPointComponent,
  VisualMapComponent,
  TitleComponent,
  AxisPointerComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { onBeforeUnmount, onMounted, shallowRef, watch, type Ref } from 'vue';
import { theme, chartColors, type ChartColors } from './theme';
import { axisTick } from '@shared/axis-ticks';

echarts.use([
  LineChart,
  HeatmapChart,
  CustomChart,
  ScatterChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomComponent,
  MarkLineComponent,
  MarkAreaComponent,
  MarkPointComponent,
  VisualMapComponent,
  TitleComponent,
  AxisPointerComponent,
  CanvasRenderer,
]);

export { echarts };
export type EChart = echarts.ECharts;
export type ChartOption = echarts.EChartsCoreOption;

// ---- one redraw per frame, within a time budget ------------------------------------------------------------

const pending = new Set<() => void>();
let frame = 0;
/** Redraw work allowed per animation frame; what does not fit waits for the next frame, oldest first. */
const FRAME_BUDGET_MS = 10;

function flush(): void {
  frame = 0;
  const jobs = [...pending];
  pending.clear();
  const t0 = performance.now();
  let i = 0;
  while (i < jobs.length) {
    jobs[i++]();
    if (performance.now() - t0 > FRAME_BUDGET_MS) break;
  }
  if (i < jobs.length) {
    // Deferred jobs keep their place ahead of anything scheduled meanwhile, so every chart gets its turn.
    const newer = [...pending];
    pending.clear();
    for (const j of jobs.slice(i)) pending.add(j);
    for (const j of newer) pending.add(j);
    if (!frame) frame = requestAnimationFrame(flush);
  }
  // The chart benchmark sets `frameTimes` to an array to record how long each frame's redraw work took.
  debugHooks().frameTimes?.push(performance.now() - t0);
}

/** Runs `job` in an upcoming animation frame; scheduling the same function again before then is free. */
export function scheduleFrame(job: () => void): void {
  pending.add(job);
  if (!frame) frame = requestAnimationFrame(flush);
}

// ---- test / bench registry -------------------------------------------------------------------------------

interface DebugHooks {
  charts: Map<string, EChart>;
  frameTimes?: number[];
  [k: string]: unknown;
}
export function debugHooks(): DebugHooks {
  const w = window as unknown as { __dpoLab?: DebugHooks };
  return (w.__dpoLab ??= { charts: new Map() });
}

// ---- composable --------------------------------------------------------------------------------------------

export interface UseChartOptions {
  /** Charts sharing a group share crosshair and zoom (echarts.connect). */
  group?: string;
  /** Name in the debug registry (usually the element's data-testid). */
  id?: string;
  /** Called after (re)initialisation and on theme change with the full base option. */
  base: (c: ChartColors) => ChartOption;
  /** Pushes data; called once per frame at most, after `requestDraw()`. */
  draw?: (chart: EChart) => void;
  /** Called when this chart, or any chart of its group, zoomed or panned. */
  onZoom?: (chart: EChart) => void;
}

// echarts.connect mirrors a zoom to the other charts of a group silently (no event there), so zoom listeners
// are kept per group here and all of them hear about a zoom in any member.
const zoomListeners = new Map<string, Set<() => void>>();

export function useChart(el: Ref<HTMLElement | null>, opts: UseChartOptions) {
  const chart = shallowRef<EChart | null>(null);
  let observer: ResizeObserver | null = null;

  const drawNow = () => {
    const c = chart.value;
    if (c && !c.isDisposed() && opts.draw) opts.draw(c);
  };
  const requestDraw = () => scheduleFrame(drawNow);
  const resize = () => scheduleFrame(() => chart.value && !chart.value.isDisposed() && chart.value.resize());

  const rebuild = () => {
    const c = chart.value;
    if (!c) return;
    c.setOption(opts.base(chartColors()), { notMerge: true, lazyUpdate: false });
    drawNow();
  };

  const zoomKey = opts.group ?? `solo-${Math.random()}`;
  const onZoom = () => {
    const c = chart.value;
    if (c && !c.isDisposed() && opts.onZoom) opts.onZoom(c);
  };

  onMounted(() => {
    if (!el.value) return;
    const c = echarts.init(el.value, null, { renderer: 'canvas' });
    chart.value = c;
    if (opts.group) {
      c.group = opts.group;
      echarts.connect(opts.group);
    }
    if (opts.onZoom) {
      let set = zoomListeners.get(zoomKey);
      if (!set) zoomListeners.set(zoomKey, (set = new Set()));
      set.add(onZoom);
      // after connect has mirrored the zoom to the group's other charts
      c.on('datazoom', () => scheduleFrame(() => zoomListeners.get(zoomKey)?.forEach((f) => f())));
    }
    if (opts.id) debugHooks().charts.set(opts.id, c);
    rebuild();
    observer = new ResizeObserver(resize);
    observer.observe(el.value);
  });

  watch(
    () => theme.resolved,
    () => scheduleFrame(rebuild),
  );

  onBeforeUnmount(() => {
    observer?.disconnect();
    const set = zoomListeners.get(zoomKey);
    set?.delete(onZoom);
    if (set && !set.size) zoomListeners.delete(zoomKey);
    if (opts.id && debugHooks().charts.get(opts.id) === chart.value) debugHooks().charts.delete(opts.id);
    chart.value?.dispose();
    chart.value = null;
  });

  return { chart, requestDraw, rebuild };
}

/** Shared look of a small-multiple line chart. */
export function baseLineOption(c: ChartColors, o: { title?: string; logY?: boolean; xName?: string } = {}): ChartOption {
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: c.text, fontFamily: 'inherit', fontSize: 11 },
    title: o.title ? { text: o.title, left: 4, top: 2, textStyle: { fontSize: 12, fontWeight: 600, color: c.text } } : undefined,
    grid: { left: 8, right: 14, top: o.title ? 30 : 14, bottom: 6, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    tooltip: {
      trigger: 'axis',
      confine: true,
      backgroundColor: c.panel,
      borderColor: c.axis,
      textStyle: { color: c.text, fontSize: 11 },
      axisPointer: { type: 'line', lineStyle: { color: c.muted } },
      valueFormatter: (v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(5)).toString() : String(v ?? '—')),
    },
    xAxis: {
      type: 'value',
      name: o.xName,
      nameTextStyle: { color: c.muted },
      min: 'dataMin',
      max: 'dataMax',
      axisLine: { lineStyle: { color: c.axis } },
      axisLabel: { color: c.muted, hideOverlap: true },
      splitLine: { show: false },
    },
    yAxis: {
      type: o.logY ? 'log' : 'value',
      scale: true,
      axisLine: { show: false },
      // compact ticks (8e+12, not 8,000,000,000,000) so huge values do not squeeze the plot
      axisLabel: { color: c.muted, hideOverlap: true, formatter: (v: number) => axisTick(v) },
      splitLine: { lineStyle: { color: c.grid } },
    },
    dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none', zoomOnMouseWheel: 'shift', moveOnMouseWheel: false }],
  };
}
