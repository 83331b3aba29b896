/**
 * The Table 1 reproduction: the paper's 6 losses × mask {0, 0.2, 0.4} × n seeds, started as one sweep
 * (sweeps:start preset 'table1'). The launcher's other fields become the sweep's shared base config.
 */
import { lab } from '../api/client';
import type { SyntheticConfig } from './launch';

export async function launchTable1(config: SyntheticConfig, seeds: number): Promise<{ sweepId: number; runIds: number[] }> {
  const { loss: _loss, mask: _mask, seed: _seed, ...base } = config;
  return lab['sweeps:start']({
    preset: 'table1',
    seeds,
    base,
    name: `Table 1 · ${seeds} seed${seeds > 1 ? 's' : ''} · ${config.model} · ${config.steps} steps`,
  });
}
