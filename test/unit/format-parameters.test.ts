/** Parameter counts read the same in the CLI, the run log and the Models view; a tiny test model is not "0.0 M". */
import { describe, expect, it } from 'vitest';
import { formatParameterCount } from '@shared/llm-model';

describe('formatParameterCount', () => {
  it.each([
    [124_439_808, '124.4M'],
    [1_100_000_000, '1.10B'],
    [30_112, '30.1K'],
    [999, '999'],
    [0, '0'],
  ])('%d → %s', (n, text) => expect(formatParameterCount(n)).toBe(text));
});
