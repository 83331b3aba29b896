import type { Command } from 'commander';
import { PAPER_LOSSES } from '../engine/losses/names';
import { computeTheory, TheoryInputSchema } from '../engine/synthetic/theory';
import type { SweepSummary } from '../api/sweeps';
import { table1Text } from './table1-text';
import { call, EXIT, openLab, print, readInput, waitForRuns, type GlobalOpts } from './common';
import { CliInputError, formatIssues } from './options';
import { parseJsonText } from '../util/json-file';

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
      const key = Object.entries(c.key).map(([k, v]) => `${k}=${v}`).join(' ') || '(all)';
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
    const { sweepId, runIds } = await call(lab, 'sweeps:start', input);
    await waitForRuns(lab, runIds, `sweep ${sweepId} (${runIds.length} runs)`);
    await lab.service.sweepsDone.get(sweepId);
    const sweep = await call(lab, 'sweeps:get', { id: sweepId });
    const summary = sweep.summary as SweepSummary;
    const seconds = (Date.now() - t0) / 1000;
    print(g.json, { sweepId, status: sweep.status, runIds, seconds, summary }, () =>
      [`sweep ${sweepId} ${sweep.status}: ${runIds.length} runs in ${seconds.toFixed(1)} s`, summary.preset === 'table1' ? table1Text(summary) : genericText(summary)].join('\n'),
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
    .command('theory')
    .description("Figure 1: DPO's per-response update weight w_i vs the balanced w_i·p_i (Theorem 2)")
    .option('--mu-p <x>', 'mean of the model distribution P', '45')
    .option('--mu-q <x>', 'mean of the utility Q', '55')
    .option('--var <x>', 'variance σ² of both', '100')
    .option('--n <n>', 'number of responses', '100')
    .option('--sampling <kind>', 'uniform or shiftless', 'uniform')
    .action((flags: Record<string, string>, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const num = (flag: string, v: string) => {
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n)) throw new CliInputError(`${flag}: expected a number, got "${v}"`);
        return n;
      };
      const raw = { muP: num('--mu-p', flags.muP), muQ: num('--mu-q', flags.muQ), variance: num('--var', flags.var), n: num('--n', flags.n), sampling: flags.sampling };
      const res = TheoryInputSchema.safeParse(raw);
      if (!res.success) throw new CliInputError(formatIssues(res.error, { muP: '--mu-p', muQ: '--mu-q', variance: '--var', n: '--n', sampling: '--sampling' }));
      const out = computeTheory(res.data);
      print(g.json, out, () => {
        const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
        const argmin = (xs: number[]) => xs.indexOf(Math.min(...xs));
        return [
          `N=${raw.n} μP=${raw.muP} μQ=${raw.muQ} σ²=${raw.variance} sampling=${raw.sampling}`,
          `DPO w_i:        max at i=${argmax(out.w)}, min at i=${argmin(out.w)}`,
          `balanced w_i·p_i: max at i=${argmax(out.wp)}, min at i=${argmin(out.wp)}`,
        ].join('\n');
      });
    });
}
