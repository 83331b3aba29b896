/**
 * `dpo-lab bench safety-tiny`: the offline benchmark (engine/llm/bench/safety-tiny.ts) from the command line. It
 * runs as the app runs it: a benchmark session in a worker process, its rows stored as evaluations of the session
 * (so the Results view shows them); models, data and runs go to the session's work folder, the grid to stdout
 * (with --json: {"seconds", "rows": [{loss, seed, help, harm, sr, oracleHelp, oracleHarm, oracleSr}], "benchId"}),
 * progress lines to stderr. Ctrl-C cancels the session.
 */
import { Option, type Command } from 'commander';
import { LOSS_NAMES, PAPER_LOSSES, isLossName } from '@shared/losses';
import { EXIT } from '@shared/errors';
import type { LabEvent } from '@shared/events';
import { BenchBudgetSchema, type BenchResult } from '@shared/bench';
import { call, openLab, print, type GlobalOpts } from './common';
import { CliInputError } from './options';
import type { Lab } from '../api/lab';

interface BenchFlags {
  seeds: string;
  losses?: string;
  workDir?: string;
  quick?: boolean;
  budget?: string;
}

/** Waits for a session to end, its log lines on stderr; Ctrl-C cancels it. */
async function waitForBench(lab: Lab, benchId: number): Promise<void> {
  let off = () => {};
  const ended = new Promise<void>((resolve) => {
    off = lab.service.onEvent((e: LabEvent) => {
      if (e.type === 'bench:log' && e.benchId === benchId) process.stderr.write(e.text + '\n');
      if (e.type === 'bench:status' && e.benchId === benchId && ['done', 'failed', 'cancelled'].includes(e.status)) resolve();
    });
  });
  const onSigint = () => void lab.service.invoke('benches:cancel', { id: benchId });
  process.on('SIGINT', onSigint);
  try {
    const now = await call(lab, 'benches:get', { id: benchId });
    if (now.status === 'queued' || now.status === 'running') await ended;
  } finally {
    off();
    process.off('SIGINT', onSigint);
  }
}

/** --budget: a JSON object of stage sizes (hidden: for tests that need every stage in seconds). */
function parseBudget(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliInputError(`--budget: expected a JSON object, got "${text}"`);
  }
  const r = BenchBudgetSchema.safeParse(raw);
  if (!r.success) throw new CliInputError(`--budget: ${r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return r.data as Record<string, number>;
}

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('offline benchmarks that run the whole pipeline on this machine');
  bench
    .command('safety-tiny')
    .description('SFT → reward/cost models → DPO and the bDPO family → Help/Harm/S.R. by learned scorers and by the oracle, on a tiny model from scratch')
    .option('--seeds <n>', 'seeds 1..n', '1')
    .option('--losses <list>', `comma-separated losses (default the paper's: ${PAPER_LOSSES.join(',')})`)
    .option('--work-dir <dir>', "folder for models, data and runs, new or empty (default the session's folder beside the database)")
    .option('--quick', 'a much smaller budget, for a smoke test (numbers not meaningful)')
    .addOption(new Option('--budget <json>', 'stage sizes as JSON, e.g. {"sftSteps":5}').hideHelp())
    .action(async (flags: BenchFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      if (!/^\d+$/.test(flags.seeds) || Number(flags.seeds) < 1 || Number(flags.seeds) > 100)
        throw new CliInputError(`--seeds: expected a whole number from 1 to 100, got "${flags.seeds}"`);
      const losses = (flags.losses ? flags.losses.split(',').map((s) => s.trim()) : [...PAPER_LOSSES]).filter(Boolean);
      const unknown = losses.find((l) => !isLossName(l));
      if (unknown !== undefined) throw new CliInputError(`--losses: unknown loss "${unknown}"; valid losses: ${LOSS_NAMES.join(', ')}`);
      const budget = parseBudget(flags.budget);
      const lab = openLab(g);
      try {
        const { benchId } = await call(lab, 'benches:start', {
          seeds: Number(flags.seeds),
          losses,
          quick: flags.quick ?? false,
          ...(budget ? { budget } : {}),
          ...(flags.workDir ? { workDir: flags.workDir } : {}),
        });
        process.stderr.write(`safety-tiny: benchmark session ${benchId}\n`);
        await waitForBench(lab, benchId);
        const b = await call(lab, 'benches:get', { id: benchId });
        if (b.status !== 'done' || !b.result) {
          process.stderr.write(`error: benchmark session ${b.id} ${b.status}${b.error ? `: ${b.error}` : ''}\n`);
          if (g.json) process.stdout.write(JSON.stringify({ ok: false, error: { code: 'internal', message: b.error ?? b.status } }) + '\n');
          process.exitCode = b.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
          return;
        }
        const result = b.result;
        print(g.json, { ...result, benchId }, () => gridText(result) + `\nstored as benchmark session ${benchId} (work folder ${b.workDir})`);
        process.exitCode = EXIT.ok;
      } finally {
        lab.close();
      }
    });
}

function gridText(r: BenchResult): string {
  const head = ['loss', 'seed', 'help', 'harm', 'S.R.', 'oracle help', 'oracle harm', 'oracle S.R.'];
  const rows = r.rows.map((x) => [x.loss, String(x.seed), ...[x.help, x.harm, x.sr, x.oracleHelp, x.oracleHarm, x.oracleSr].map((v) => v.toFixed(3))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line), `${r.seconds.toFixed(0)} s`].join('\n');
}
