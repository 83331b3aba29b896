/**
 * Min/max decimation for line charts: per horizontal bucket (about one per pixel) keep the lowest and the
 * highest point, in step order, plus the first and last point. A spike survives, the drawn shape is the same at
 * screen resolution, and ECharts gets ~2 points per pixel instead of 20k, in one O(n) pass of plain JS.
 * With a zoom window only the points inside it are bucketed (the full series' first and last points are kept
 * so the axis extent, and with it the zoom percentages, stay put).
 */
import type { Point } from './liveSeries';

function lowerBound(pts: Point[], x: number): number {
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid][0] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function decimate(pts: Point[], buckets: number, range?: [number, number] | null): Point[] {
  const n = pts.length;
  buckets = Math.max(16, Math.floor(buckets));
  if (n <= 2 * buckets + 2 && !range) return pts;
  let i0 = 0;
  let i1 = n - 1;
  if (range) {
    i0 = Math.max(0, lowerBound(pts, range[0]) - 1);
    i1 = Math.min(n - 1, lowerBound(pts, range[1]));
  }
  const out: Point[] = [];
  if (i0 > 0) out.push(pts[0]);
  if (i1 - i0 + 1 <= 2 * buckets + 2) {
    for (let i = i0; i <= i1; i++) out.push(pts[i]);
  } else {
    const x0 = pts[i0][0];
    const w = (pts[i1][0] - x0) / buckets || 1;
    out.push(pts[i0]);
    let bucket = -1;
    let lo: Point | null = null;
    let hi: Point | null = null;
    let loI = 0;
    let hiI = 0;
    const flush = () => {
      if (!lo || !hi) return;
      if (lo === hi) out.push(lo);
      else if (loI < hiI) out.push(lo, hi);
      else out.push(hi, lo);
      lo = hi = null;
    };
    for (let i = i0 + 1; i < i1; i++) {
      const p = pts[i];
      const v = p[1];
      if (v === null) {
        // a gap (non-finite value) stays a gap
        flush();
        out.push(p);
        continue;
      }
      const b = Math.min(buckets - 1, Math.floor((p[0] - x0) / w));
      if (b !== bucket) {
        flush();
        bucket = b;
        lo = hi = p;
        loI = hiI = i;
      } else {
        if (v < (lo![1] as number)) {
          lo = p;
          loI = i;
        }
        if (v > (hi![1] as number)) {
          hi = p;
          hiI = i;
        }
      }
    }
    flush();
    out.push(pts[i1]);
  }
  if (i1 < n - 1) out.push(pts[n - 1]);
  return out;
}

/** The visible step window of a chart's first inside-dataZoom, or null when fully zoomed out. */
export function zoomWindow(option: { dataZoom?: { start?: number; end?: number }[] }, full: [number, number]): [number, number] | null {
  const dz = option.dataZoom?.[0];
  const s = dz?.start ?? 0;
  const e = dz?.end ?? 100;
  if (s <= 0 && e >= 100) return null;
  const span = full[1] - full[0];
  return [full[0] + (span * s) / 100, full[0] + (span * e) / 100];
}
