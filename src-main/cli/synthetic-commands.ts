import type { Command } from 'commander';
import { PAPER_LOSSES } from '@shared/losses';
import { TheoryInputSchema } from '@shared/theory';
import type { SweepSummary } from '@shared/sweeps';
import type { LabEvent } from '@shared/events';
import { EXIT } from '@shared/errors';
import { table1Text } from './table1-text';
import { sensitivityText } from './sensitivity-text';
import { SENSITIVITY_AXES, sensitivityRunCount } from '@shared/sensitivity';
import { call, openComputeLab, openLab, print, readInput, waitForRuns, type GlobalOpts } from './common';
import { addSchemaOptions, CliInputError, valuesFromFlags } from './options';
import { parseJsonText } from '../util/json-file';
import fs from 'node:fs';
import type { SensitivityStudy } from '@shared/sensitivity';
import { table1ReportHtml } from '../report/table1-report';
import { LAB_VERSION } from '../api/lab';

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CliInputError(`${name}: expected a positive integer, got "${v}"`);
  return n;
}

const fmt = (x: number | undefined, d = 2) => (x === undefined ? '—' : x.toFixed(d));

function genericText(summary: SweepSummary): string {
  return summary.cells
    .map((c) => {
      const key =
        Object.entries(c.key)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '(all)';
      const s = c.metrics.expectedUtility;
      return `${key.padEnd(40)} n=${c.n}  expectedUtility ${fmt(s?.mean, 4)} ± ${fmt(s?.std, 4)}`;
    })
    .join('\n');
}

async function runSweep(cmd: Command, input: Record<string, unknown>): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const lab = openLab(g);
  try {
    const t0 = Date.now();
    // Listen before starting, so a fast sweep's final event is not missed.
    const finished = new Set<number>();
    let announce: () => void = () => undefined;
    const off = lab.service.onEvent((e: LabEvent) => {
      if (e.type === 'sweep:status' && e.status !== 'running' && e.status !== 'queued') {
        finished.add(e.sweepId);
        announce();
      }
    });
    const { sweepId, runIds } = await call(lab, 'sweeps:start', input);
    await waitForRuns(lab, runIds, `sweep ${sweepId} (${runIds.length} runs)`);
    await new Promise<void>((resolve) => {
      announce = () => finished.has(sweepId) && resolve();
      announce();
    });
    off();
    const sweep = await call(lab, 'sweeps:get', { id: sweepId });
    const summary = sweep.summary as SweepSummary;
    const seconds = (Date.now() - t0) / 1000;
    print(g.json, { sweepId, status: sweep.status, runIds, seconds, summary }, () =>
      [
        `sweep ${sweepId} ${sweep.status}: ${runIds.length} runs in ${seconds.toFixed(1)} s`,
        summary.preset === 'table1' ? table1Text(summary) : summary.sensitivity ? sensitivityText(summary.sensitivity) : genericText(summary),
      ].join('\n'),
    );
    process.exitCode = sweep.status === 'done' ? EXIT.ok : sweep.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
  } finally {
    lab.close();
  }
}

/** sweep and theory: the synthetic lab's commands beyond a single run. */
export function registerSyntheticLabCommands(program: Command): void {
  const sweep = program.command('sweep').description('run many synthetic runs as batched jobs and summarise them');
  sweep
    .command('table1')
    .description(`the paper's Table 1: ${PAPER_LOSSES.join(', ')} × mask {0, 0.2, 0.4} × seeds`)
    .option('--seeds <n>', 'seeds per cell', '5')
    .option('--steps <n>', 'training steps per run (default 1000)')
    .option('--name <name>', 'sweep name')
    .action(async (flags: { seeds: string; steps?: string; name?: string }, cmd: Command) => {
      await runSweep(cmd, { preset: 'table1', seeds: intFlag('--seeds', flags.seeds), steps: intFlag('--steps', flags.steps), name: flags.name });
    });
  const ax = SENSITIVITY_AXES;
  sweep
    .command('sensitivity')
    .description(
      `the paper's losses over the settings it left open: steps ${ax.steps.join('/')} × β ${ax.beta.join('/')} × lr ${ax.lr.join('/')} × model ${ax.model.join('/')} × mask ${ax.mask.join('/')} × seeds (${sensitivityRunCount(1)} runs per seed); per setting our ranking, Kendall's τ against the paper's, and Welch's test of bdpo vs dpo`,
    )
    .option('--seeds <n>', 'seeds per setting and loss', '3')
    .option('--name <name>', 'sweep name')
    .action(async (flags: { seeds: string; name?: string }, cmd: Command) => {
      await runSweep(cmd, { preset: 'sensitivity', seeds: intFlag('--seeds', flags.seeds), name: flags.name });
    });
  sweep
    .command('grid')
    .description('any grid: JSON {"base": {config fields}, "grid": {"field": [values]}, "seeds": n}')
    .argument('<spec>', 'the JSON itself, or @FILE, or - for stdin')
    .action(async (spec: string, _flags: unknown, cmd: Command) => {
      const { text, source } = spec === '-' || spec.startsWith('@') ? readInput(spec === '-' ? '-' : spec.slice(1)) : { text: spec, source: 'argument' };
      let parsed: unknown;
      try {
        parsed = parseJsonText(text, source);
      } catch (err) {
        throw new CliInputError((err as Error).message);
      }
      await runSweep(cmd, parsed as Record<string, unknown>);
    });

  program
    .command('report')
    .description('one self-contained report file')
    .command('table1')
    .description('Table 1 ours vs the paper (mean ± 95% interval) and the sensitivity study with its summary, as one HTML file with its data inside')
    .option('--table1 <sweepId>', 'a finished Table 1 sweep (lab sweep table1)')
    .option('--sensitivity <sweepId>', 'a finished sensitivity sweep (lab sweep sensitivity)')
    .requiredOption('--out <file>', 'the HTML file to write')
    .action(async (flags: { table1?: string; sensitivity?: string; out: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      if (!flags.table1 && !flags.sensitivity) throw new CliInputError('give --table1 <sweepId>, --sensitivity <sweepId> or both');
      const lab = openLab(g);
      try {
        const sweepOf = async (flag: string, v: string | undefined, preset: string) => {
          const id = intFlag(flag, v);
          if (id === undefined) return undefined;
          const sweep = await call(lab, 'sweeps:get', { id });
          if (sweep.preset !== preset)
            throw new CliInputError(`${flag} ${id}: sweep "${sweep.name}" is not a ${preset} sweep (preset ${String(sweep.preset)})`);
          return sweep;
        };
        const t1 = await sweepOf('--table1', flags.table1, 'table1');
        const sens = await sweepOf('--sensitivity', flags.sensitivity, 'sensitivity');
        const first = t1 ?? sens!;
        const runs = await call(lab, 'runs:list', { sweepId: first.id, limit: 1 });
        const html = table1ReportHtml({
          table1: t1 ? (t1.summary as SweepSummary) : undefined,
          sensitivity: sens ? (sens.summary as { sensitivity?: SensitivityStudy }).sensitivity : undefined,
          meta: {
            appVersion: LAB_VERSION,
            backend: runs[0]?.backend ?? 'unknown',
            seeds: Number(first.config.seeds ?? 0),
            createdAt: new Date(),
            config: { ...(t1 ? { table1Sweep: t1.config } : {}), ...(sens ? { sensitivitySweep: sens.config } : {}) },
          },
        });
        fs.writeFileSync(flags.out, html);
        print(g.json, { out: flags.out, bytes: Buffer.byteLength(html) }, () => `wrote ${flags.out} (${Buffer.byteLength(html)} bytes)`);
      } finally {
        lab.close();
      }
    });

  addSchemaOptions(
    program.command('theory').description("Figure 1: DPO's per-response update weight w_i vs the balanced w_i·p_i (Theorem 2)"),
    TheoryInputSchema,
  ).action(async (flags: Record<string, unknown>, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOpts>();
    const input = valuesFromFlags(TheoryInputSchema, flags);
    const lab = openComputeLab(g);
    try {
      const out = await call(lab, 'theory:compute', input);
      print(g.json, out, () => {
        const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
        const argmin = (xs: number[]) => xs.indexOf(Math.min(...xs));
        return [
          `N=${input.n} μP=${input.muP} μQ=${input.muQ} σ²=${input.variance} sampling=${input.sampling}`,
          `DPO w_i:        max at i=${argmax(out.w)}, min at i=${argmin(out.w)}`,
          `balanced w_i·p_i: max at i=${argmax(out.wp)}, min at i=${argmin(out.wp)}`,
        ].join('\n');
      });
    } finally {
      lab.close();
    }
  });
}
