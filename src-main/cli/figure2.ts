/**
 * `dpo-lab figure2`: the paper's Figure 2 from the command line. DPO and bDPO train side by side on the same
 * dataset (the launcher's "Figure 2 run" preset: MLP, no mask, defaults otherwise), then their final policies
 * π(y|x) are shown as heatmaps side by side: in the terminal as text, and with --out as a standalone SVG (one
 * shared 0–1 colour scale) plus each matrix as CSV, for a paper or another plotting tool.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Lab } from '../api/lab';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import type { LossName } from '@shared/losses';
import { call, openLab, print, type GlobalOpts } from './common';
import { addSchemaOptions, CliInputError, valuesFromFlags } from './options';
import { exitCodeOf, runSyntheticSideBySide, type RunOutcome } from './run-synthetic';
import { heatmapsSvg, heatmapsText, type HeatmapPanel } from '../report/heatmap-render';

export const FIGURE2_LOSSES: readonly LossName[] = ['dpo', 'bdpo'];

function panelOf(o: RunOutcome): HeatmapPanel | null {
  if (!o.probs) return null;
  const f = o.final ?? {};
  const num = (k: string) => (typeof f[k] === 'number' ? f[k].toFixed(3) : '—');
  return { title: `${String(o.config.loss)} · run ${o.runId}`, probs: o.probs, note: `R ${num('expectedUtility')} · pBest ${num('pBest')}` };
}

/** The K×K matrix as CSV (through the lab's own CSV writer): one row per prompt x, one column per response y. */
async function probsCsv(lab: Lab, probs: number[][]): Promise<string> {
  const header = ['x', ...probs[0].map((_, y) => `y${y}`)];
  return (await call(lab, 'table:exportCsv', { header, rows: probs.map((row, x) => [x, ...row]) })).csv;
}

/** Creates the output folder (and its parents) before any training, so a bad path fails in a second. */
function prepareOutDir(dir: string): string {
  const abs = path.resolve(dir);
  try {
    fs.mkdirSync(abs, { recursive: true });
  } catch (err) {
    throw new CliInputError(`--out: cannot create folder ${abs}: ${(err as Error).message}`);
  }
  if (!fs.statSync(abs).isDirectory()) throw new CliInputError(`--out: ${abs} is not a folder`);
  return abs;
}

export function registerFigure2Command(program: Command): void {
  addSchemaOptions(
    program
      .command('figure2')
      .description("the paper's Figure 2: DPO vs bDPO trained side by side, final π(y|x) heatmaps (text; SVG + CSV with --out)")
      .option('--out <dir>', 'write figure2.svg and each run’s K×K matrix as CSV into this folder (created if missing)')
      .option('--name <name>', 'run name prefix', 'Figure 2'),
    SyntheticConfigSchema,
    ['loss'],
  ).action(async (flags: Record<string, unknown>, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOpts>();
    const config = valuesFromFlags(SyntheticConfigSchema, { ...flags, loss: FIGURE2_LOSSES[0] });
    const outDir = typeof flags.out === 'string' ? prepareOutDir(flags.out) : undefined;
    const lab = openLab(g);
    try {
      const outs = await runSyntheticSideBySide(lab, { config, losses: [...FIGURE2_LOSSES], name: flags.name as string, tags: ['figure2'] });
      const panels = outs.map(panelOf).filter((p): p is HeatmapPanel => p !== null);
      const files: string[] = [];
      if (outDir && panels.length) {
        const svg = path.join(outDir, 'figure2.svg');
        fs.writeFileSync(svg, heatmapsSvg(panels));
        files.push(svg);
        for (const o of outs) {
          if (!o.probs) continue;
          const csv = path.join(outDir, `figure2-run${o.runId}-${String(o.config.loss)}-probs.csv`);
          fs.writeFileSync(csv, await probsCsv(lab, o.probs));
          files.push(csv);
        }
      }
      print(g.json, { runs: outs, files }, () =>
        [
          ...outs.map((o) => `run ${o.runId} ${String(o.config.loss)} ${o.status}${o.error ? `: ${o.error}` : ''}`),
          panels.length ? heatmapsText(panels) : 'no heatmap: no run reached an evaluation',
          ...files.map((f) => `wrote ${f}`),
        ].join('\n'),
      );
      process.exitCode = exitCodeOf(outs);
    } finally {
      lab.close();
    }
  });
}
