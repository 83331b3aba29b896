/**
 * `dpo-lab bench safety-tiny`: the offline benchmark (engine/llm/bench/safety-tiny.ts) from the command line. It
 * computes in this process (like `loss`), so the engine is imported dynamically; models, data and runs go to a
 * work folder, the grid to stdout (with --json: {"seconds", "rows": [{loss, seed, help, harm, sr, oracleHelp,
 * oracleHarm, oracleSr}]}), progress lines to stderr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { LOSS_NAMES, PAPER_LOSSES, isLossName, type LossName } from '@shared/losses';
import { parseBackendFlag, print, type GlobalOpts } from './common';
import { CliInputError } from './options';

interface BenchFlags {
  seeds: string;
  losses?: string;
  workDir?: string;
  quick?: boolean;
}

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('offline benchmarks that run the whole pipeline on this machine');
  bench
    .command('safety-tiny')
    .description('SFT → reward/cost models → DPO and the bDPO family → Help/Harm/S.R. by learned scorers and by the oracle, on a tiny model from scratch')
    .option('--seeds <n>', 'seeds 1..n', '1')
    .option('--losses <list>', `comma-separated losses (default the paper's: ${PAPER_LOSSES.join(',')})`)
    .option('--work-dir <dir>', 'folder for models, data and runs (default a new temp folder)')
    .option('--quick', 'a much smaller budget, for a smoke test (numbers not meaningful)')
    .action(async (flags: BenchFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      if (!/^\d+$/.test(flags.seeds) || Number(flags.seeds) < 1 || Number(flags.seeds) > 100)
        throw new CliInputError(`--seeds: expected a whole number from 1 to 100, got "${flags.seeds}"`);
      const losses = (flags.losses ? flags.losses.split(',').map((s) => s.trim()) : [...PAPER_LOSSES]).filter(Boolean);
      const unknown = losses.find((l) => !isLossName(l));
      if (unknown !== undefined) throw new CliInputError(`--losses: unknown loss "${unknown}"; valid losses: ${LOSS_NAMES.join(', ')}`);
      const workDir = path.resolve(flags.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dpo-lab-safety-tiny-')));
      fs.mkdirSync(workDir, { recursive: true });
      const { initBackend } = await import('../engine/backend');
      const { runSafetyTiny, SAFETY_TINY_QUICK_BUDGET } = await import('../engine/llm/bench/safety-tiny');
      const backend = await initBackend(parseBackendFlag(g.backend) ?? 'auto');
      process.stderr.write(`safety-tiny on ${backend.label}; work folder ${workDir}\n`);
      const result = await runSafetyTiny({
        seeds: Array.from({ length: Number(flags.seeds) }, (_, i) => i + 1),
        losses: losses as LossName[],
        workDir,
        ...(flags.quick ? { budget: SAFETY_TINY_QUICK_BUDGET } : {}),
        log: (line) => process.stderr.write(line + '\n'),
      });
      print(g.json, result, () => gridText(result));
    });
}

function gridText(r: {
  seconds: number;
  rows: { loss: string; seed: number; help: number; harm: number; sr: number; oracleHelp: number; oracleHarm: number; oracleSr: number }[];
}): string {
  const head = ['loss', 'seed', 'help', 'harm', 'S.R.', 'oracle help', 'oracle harm', 'oracle S.R.'];
  const rows = r.rows.map((x) => [x.loss, String(x.seed), ...[x.help, x.harm, x.sr, x.oracleHelp, x.oracleHarm, x.oracleSr].map((v) => v.toFixed(3))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line), `${r.seconds.toFixed(0)} s`].join('\n');
}
