/** The charts' value-axis labels (src-shared/axis-ticks.ts): neighbouring ticks never read the same. */
import { describe, expect, it } from 'vitest';
import { axisTick } from '../../src-shared/axis-ticks';

describe('axis tick labels', () => {
  it('a narrow loss axis keeps its ticks apart (0.6930…0.6940 by 0.0002)', () => {
    const ticks = [0.693, 0.6932, 0.6934, 0.6936, 0.6938, 0.694].map((t, i) => t + (i % 2 ? 1e-17 : 0));
    const labels = ticks.map(axisTick);
    expect(labels).toEqual(['0.693', '0.6932', '0.6934', '0.6936', '0.6938', '0.694']);
  });

  it('float noise, big and tiny values stay short', () => {
    expect(axisTick(0.1 + 0.2)).toBe('0.3');
    expect(axisTick(-0.0012)).toBe('-0.0012');
    expect(axisTick(12000)).toBe('12k');
    expect(axisTick(12500)).toBe('12.5k');
    expect(axisTick(3.5e6)).toBe('3.5M');
    expect(axisTick(8e12)).toBe('8T');
    expect(axisTick(1.5e-5)).toBe('1.5e-5');
    expect(axisTick(2e20)).toBe('2e20');
    expect(axisTick(0)).toBe('0');
    expect(axisTick(250)).toBe('250');
  });
});
