/** Value-axis labels for the app's charts (and anything else that draws an axis). */

/**
 * Compact value-axis labels: 12k, 3.5M, 8T instead of 8,000,000,000,000 (which squeezes the plot), exponents
 * beyond that and for tiny values (1.5e-5). ECharts puts ticks on round numbers, so a tick's shortest form (up to
 * six significant digits, which drops float noise like 0.30000000000000004) has just the digits that tell it from
 * its neighbours: a loss axis from 0.6930 to 0.6940 reads 0.693, 0.6932, 0.6934…, not 0.693 five times.
 */
export function axisTick(v: number): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  const short = (x: number) => String(Number(x.toPrecision(6)));
  if (a >= 1e4 && a < 1e15) {
    const [unit, suffix] = a >= 1e12 ? [1e12, 'T'] : a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
    return `${short(v / unit)}${suffix}`;
  }
  if (a >= 1e15 || a < 1e-3) return Number(v.toPrecision(6)).toExponential().replace('e+', 'e');
  return short(v);
}
