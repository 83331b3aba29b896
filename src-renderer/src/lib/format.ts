/** Number and time formatting: fixed decimals for tables, relative timestamps (axis ticks: @shared/axis-ticks). */
import { ref } from 'vue';

/** Fixed decimals, with an exponent for values a fixed format would hide. '—' for missing. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 10 ** -digits || a >= 1e6)) return v.toExponential(Math.max(1, digits - 1)).replace('-', '−');
  return v.toFixed(digits).replace('-', '−');
}

export function fmtInt(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en-US');
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A clock that ticks every 20 s, so relative times refresh without each component running a timer. */
export const now = ref(Date.now());
setInterval(() => (now.value = Date.now()), 20_000);

export function relativeTime(ts: number | null | undefined, at = now.value): string {
  if (!ts) return '—';
  const s = Math.round((at - ts) / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  return d < 30 ? `${d} d ago` : new Date(ts).toLocaleDateString();
}

export function absoluteTime(ts: number | null | undefined): string {
  return ts ? new Date(ts).toLocaleString() : '';
}

/** mean and sample standard deviation (0 for one value). */
export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  if (!n) return { mean: NaN, std: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v), n };
}
