/**
 * Line charts for the report as standalone SVG strings, drawn by ECharts' server-side renderer (no DOM, no
 * canvas). ECharts is loaded with import() on first use: the app and `serve` start without it. Every chart is
 * disposed as soon as its SVG is out; a live instance keeps a timer that would hold a CLI process open.
 */
export interface LineSeries {
  name: string;
  color: string;
  /** [x, y] points, x ascending */
  points: [number, number][];
  dashed?: boolean;
  /** drawn thinner, behind the others (context curves such as p and q) */
  faint?: boolean;
}

export interface LineChartSpec {
  /** unique within a document: it prefixes the SVG's element ids and classes, so charts side by side never share one */
  id: string;
  title: string;
  subtitle?: string;
  xName: string;
  yName: string;
  series: LineSeries[];
  width?: number;
  height?: number;
  /** a dashed horizontal reference line (e.g. 0 = balanced) */
  refY?: number;
  /** draw the y axis on a log scale (all values must be > 0) */
  logY?: boolean;
  yMin?: number;
  yMax?: number;
  xMin?: number;
  xMax?: number;
}

type ECharts = typeof import('echarts');
let echartsModule: Promise<ECharts> | null = null;
const loadECharts = () => (echartsModule ??= import('echarts'));

/** One chart as an SVG document string. */
export async function lineChartSvg(spec: LineChartSpec): Promise<string> {
  const echarts = await loadECharts();
  const width = spec.width ?? 520;
  const height = spec.height ?? 320;
  // the legend's rows (entries ~28 px + ~6.5 px a character, packed left to right) decide the room at the bottom
  let legendRows = 1;
  let rowWidth = 0;
  for (const s of spec.series) {
    const w = 38 + 6.5 * s.name.length;
    if (rowWidth > 0 && rowWidth + w > width - 20) {
      legendRows++;
      rowWidth = 0;
    }
    rowWidth += w;
  }
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: 'sans-serif' },
      title: {
        text: spec.title,
        subtext: spec.subtitle,
        left: 'center',
        textStyle: { fontSize: 13 },
        subtextStyle: { fontSize: 11, color: '#555' },
        itemGap: 4,
      },
      legend: { bottom: 0, itemWidth: 18, itemHeight: 8, textStyle: { fontSize: 11 } },
      grid: { left: 58, right: 18, top: spec.subtitle ? 56 : 40, bottom: 48 + 18 * legendRows },
      xAxis: {
        type: 'value',
        name: spec.xName,
        nameLocation: 'middle',
        nameGap: 22,
        min: spec.xMin ?? 'dataMin',
        max: spec.xMax ?? 'dataMax',
        axisLabel: { fontSize: 10 },
        splitLine: { show: false },
      },
      yAxis: {
        type: spec.logY ? 'log' : 'value',
        name: spec.yName,
        nameLocation: 'middle',
        nameGap: 42,
        min: spec.yMin,
        max: spec.yMax,
        scale: spec.yMin === undefined,
        axisLabel: { fontSize: 10 },
        splitLine: { lineStyle: { color: '#eceff4' } },
      },
      series: spec.series.map((s, i) => ({
        type: 'line',
        name: s.name,
        data: s.points,
        showSymbol: false,
        color: s.color,
        z: s.faint ? 1 : 2,
        lineStyle: { width: s.faint ? 1 : 1.8, type: s.dashed ? 'dashed' : 'solid', color: s.color },
        ...(i === 0 && spec.refY !== undefined
          ? { markLine: { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: '#999', type: 'dotted' }, data: [{ yAxis: spec.refY }] } }
          : {}),
      })),
    });
    // zrender numbers its ids and classes per process (zr0-, zr1-, …): the same chart would differ from one call to
    // the next, so they are named after the chart instead
    const prefix = `${spec.id.replace(/[^\w-]+/g, '_')}-`;
    const classes = new Map<string, number>();
    return chart
      .renderToSVGString()
      .replace(/\bzr\d+-/g, prefix)
      .replace(/-cls-(\d+)/g, (_, n: string) => `-cls-${classes.get(n) ?? classes.set(n, classes.size).get(n)}`);
  } finally {
    chart.dispose();
  }
}

/** At most `max` points: the means of equal runs of consecutive points (a 3000-step curve stays a few kB). */
export function downsample(points: readonly [number, number][], max = 240): [number, number][] {
  if (points.length <= max) return points.map(([x, y]) => [x, y]);
  const out: [number, number][] = [];
  const per = points.length / max;
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * per);
    const to = Math.max(from + 1, Math.floor((b + 1) * per));
    let sx = 0;
    let sy = 0;
    for (let i = from; i < to; i++) {
      sx += points[i][0];
      sy += points[i][1];
    }
    out.push([sx / (to - from), sy / (to - from)]);
  }
  return out;
}
