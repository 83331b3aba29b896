/** One colour per loss everywhere: built-ins apart from each other, custom losses stable by name and apart from every built-in, what is not a loss grey. */
import { describe, expect, it } from 'vitest';
import { CUSTOM_PALETTE, LOSS_COLORS, customLossColor, lossColor } from '@shared/loss-colors';
import { LOSS_NAMES } from '@shared/losses';

describe('loss colours', () => {
  it('gives each built-in its own colour and each custom loss a stable one none of them uses', () => {
    const builtIn = LOSS_NAMES.map((n) => lossColor(n));
    expect(new Set(builtIn).size).toBe(LOSS_NAMES.length);
    expect(builtIn).toEqual(LOSS_NAMES.map((n) => LOSS_COLORS[n]));
    for (const name of ['wdpo2', 'my balanced', 'sg-balanced']) {
      expect(lossColor(name)).toBe(customLossColor(name));
      expect(lossColor(name)).toBe(lossColor(name));
      expect(CUSTOM_PALETTE).toContain(lossColor(name));
      expect(builtIn).not.toContain(lossColor(name));
    }
  });

  it("keeps the benchmark's sft row, an unnamed custom loss and a missing loss grey", () => {
    const grey = lossColor(null);
    expect(lossColor('sft')).toBe(grey);
    expect(lossColor('custom')).toBe(grey);
    expect(lossColor(undefined)).toBe(grey);
    expect(CUSTOM_PALETTE).not.toContain(grey);
  });
});
