/**
 * dpo-lab: the command-line front door. Every command goes through the same service (and schemas) as the
 * app; long work runs in a worker process with a progress bar on stderr; --json prints machine-readable output.
 */
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_VERSION } from '../api/lab';
import { parseJsonText } from '../util/json-file';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { startWebServer } from '../server/server';
import { BACKEND_PREFERENCES } from '@shared/backends';
import { SyntheticConfigSchema, type SyntheticConfig } from '@shared/synthetic-config';
import { EXIT, EXIT_CODE } from '@shared/errors';
import { addSchemaOptions, CliInputError, valuesFromFlags } from './options';
import { call, CliCommandError, lifecycle, openComputeLab, openLab, print, readInput, reportFailure, type GlobalOpts } from './common';
export { lifecycle } from './common';
import { registerSyntheticLabCommands } from './synthetic-commands';
import { registerEvalCommands } from './eval-commands';
import { registerLlmCommands } from './llm-commands';
import { addCustomLossOptions, checkedFormula, customLossFromFlags, lossChoiceList, lossesWithCustom } from './custom-loss-flags';
import { exitCodeOf, outcomesText, readDatasetFile, runSyntheticSideBySide } from './run-synthetic';
import { runsTable } from './runs-table';
import { registerFigure2Command } from './figure2';
import { registerTrlCommands } from './trl-commands';
import { registerBenchCommands } from './bench-commands';
import { registerStatsCommand } from './stats-command';
import { registerScorerCommands } from './scorer-commands';
import { registerBundleCommands } from './bundle-commands';

function rendererDir(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../out/renderer' : '../renderer', import.meta.url));
}

export function buildProgram(): Command {
  const program = new Command('dpo-lab')
    .description('DPO Lab: run, watch and compare preference-optimisation experiments')
    .version(LAB_VERSION)
    .option('--db <file>', 'SQLite database (default: $DPO_LAB_DB or the app data folder)')
    .option('--backend <name>', `tfjs backend: ${BACKEND_PREFERENCES.join(', ')}`)
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError()
    .exitOverride();

  const run = program.command('run').description('start a run and wait for it');
  addSchemaOptions(
    addCustomLossOptions(
      run
        .command('synthetic')
        .description("the paper's toy experiment (20 prompts × 20 responses); --loss dpo,bdpo trains losses side by side")
        .option('--dataset <file>', 'train on this dataset file (JSON, synthetic.md format)')
        .option('--export-dataset <file>', 'write the dataset the run used to this file')
        .option('--name <name>', 'run name'),
    ),
    SyntheticConfigSchema,
  ).action(async (flags: Record<string, unknown>, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOpts>();
    // --loss takes a list (dpo,bdpo: one run per loss, side by side) and TRL's loss_type names (sigmoid: dpo, or
    // cdpo when --label-smoothing > 0); runs store ours. --loss-formula adds a custom (formula) loss run.
    const listed = lossChoiceList(flags.loss, Number(flags.labelSmoothing ?? 0));
    if (typeof flags.lossFormula === 'string') checkedFormula('--loss-formula', flags.lossFormula);
    const dataset = typeof flags.dataset === 'string' ? readDatasetFile(flags.dataset) : undefined;
    const lab = openLab(g);
    try {
      const { losses, loss } = lossesWithCustom(listed, await customLossFromFlags(lab, flags));
      const config = {
        ...valuesFromFlags(SyntheticConfigSchema, { ...flags, loss: loss.loss === 'custom' ? undefined : loss.loss }),
        ...loss,
      } as SyntheticConfig;
      const outs = await runSyntheticSideBySide(lab, { config, losses, dataset, name: flags.name as string | undefined });
      if (typeof flags.exportDataset === 'string') {
        const ds = await call(lab, 'runs:datasetFile', { id: outs[0].runId });
        if (ds) fs.writeFileSync(flags.exportDataset, ds.content);
      }
      print(g.json, outs.length === 1 ? outs[0] : { runs: outs }, () => outcomesText(outs));
      process.exitCode = exitCodeOf(outs);
    } finally {
      lab.close();
    }
  });

  program
    .command('runs')
    .description('list saved runs')
    .option('--kind <kind>', 'only this kind')
    .option('--status <status>', 'only this status')
    .option('--loss <loss>', 'only this loss')
    .option('--search <text>', 'name, notes, config or tags contain this')
    .action(async (flags: Record<string, string | undefined>, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const lab = openLab(g);
      try {
        const runs = await call(lab, 'runs:list', { kind: flags.kind, status: flags.status, loss: flags.loss, search: flags.search });
        print(g.json, runs, () => {
          if (!runs.length) return 'no runs yet: try `dpo-lab run synthetic --steps 200`';
          return runsTable(runs);
        });
      } finally {
        lab.close();
      }
    });

  program
    .command('export')
    .description("write runs' metrics as long-format CSV (run_id,step,name,value)")
    .requiredOption('--run <id...>', 'run id(s)')
    .option('--out <file>', 'CSV file to write (default: standard output)')
    .action(async (flags: { run: string[]; out?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const ids = flags.run.map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n <= 0) throw new CliInputError(`--run: expected a run id, got "${s}"`);
        return n;
      });
      if (flags.out !== undefined && !fs.existsSync(path.dirname(path.resolve(flags.out))))
        throw new CliInputError(`--out: folder ${path.dirname(path.resolve(flags.out))} does not exist`);
      const lab = openLab(g);
      try {
        // the same paged export the app streams: bounded memory, no sort of a whole run
        const opened = lab.service.openMetricsExport({ ids });
        if (!opened.ok) {
          const e = opened.error;
          if (e.code === 'invalid_input' && e.issues?.length) throw new CliInputError(`--run: ${e.issues.map((i) => i.message).join('; ')}`);
          if (e.code === 'not_found') throw new CliInputError(`--run: ${e.message}`);
          throw new CliCommandError(e.message, EXIT_CODE[e.code], e.code);
        }
        const { chunks, rows: counted } = opened.value;
        if (flags.out === undefined) {
          // stdout carries the CSV itself (pipe it into a file or another tool)
          await pipeline(Readable.from(chunks), process.stdout, { end: false });
          return;
        }
        await pipeline(Readable.from(chunks), fs.createWriteStream(flags.out));
        const rows = counted();
        const out = flags.out;
        print(g.json, { file: path.resolve(out), rows }, () => `wrote ${rows} rows to ${out}`);
      } finally {
        lab.close();
      }
    });

  program
    .command('serve')
    .description('web mode: serve the app and its API over HTTP (loopback and a token by default)')
    .option('--port <n>', 'port (0 picks a free one)', '8765')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--token <token>', 'keep this token across restarts (default: $DPO_LAB_TOKEN, else a random one); 16+ characters')
    .action(async (flags: { port: string; host: string; token?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliInputError(`--port: expected 0..65535, got "${flags.port}"`);
      const token = flags.token ?? process.env.DPO_LAB_TOKEN;
      if (token !== undefined && !/^[A-Za-z0-9._~-]{16,200}$/.test(token))
        throw new CliInputError("--token: use 16 to 200 letters, digits or . _ ~ - (it goes in the URL, and it is the lab's only password)");
      const lab = openLab(g, 'web');
      const server = await startWebServer({ service: lab.service, staticDir: rendererDir(), host: flags.host, port, token });
      if (!['127.0.0.1', 'localhost', '::1'].includes(flags.host))
        process.stderr.write(`warning: serving on ${flags.host}, reachable beyond this machine; anyone with the URL can use the lab\n`);
      lifecycle.keepAlive = true;
      const { dbPath } = await call(lab, 'app:info', {});
      print(g.json, { url: server.url, port: server.port, db: dbPath }, () => server.url);
      const stop = async () => {
        await server.close();
        lab.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });

  program
    .command('loss')
    .description("per-pair losses and ∂L/∂logp for given log-probs, through the trainer's own code")
    .requiredOption('--input <file>', 'JSON file, or - for stdin')
    .option('--formula <expr>', 'a loss formula, reported as "custom" (alone, unless the input names losses)')
    .action(async (flags: { input: string; formula?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const formula = flags.formula === undefined ? undefined : checkedFormula('--formula', flags.formula);
      const { text, source } = readInput(flags.input);
      let input: unknown;
      try {
        input = parseJsonText(text, source);
      } catch (err) {
        throw new CliInputError((err as Error).message);
      }
      if (formula !== undefined && input !== null && typeof input === 'object' && !Array.isArray(input)) input = { ...input, formula };
      const lab = openComputeLab(g);
      try {
        const out = await call(lab, 'loss:inspect', input, `${source}: invalid loss input: `);
        // The output is JSON either way: it is meant for scripts and for eyeballing alike.
        print(true, out, () => '');
      } finally {
        lab.close();
      }
    });

  registerSyntheticLabCommands(program);
  registerFigure2Command(program);
  registerLlmCommands(program, run);
  registerTrlCommands(program);
  registerEvalCommands(program);
  registerBenchCommands(program);
  registerStatsCommand(program);
  registerScorerCommands(program);
  registerBundleCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    // A reader that stopped early (`dpo-lab export --run 1 | head`) is not an error.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // one line on stderr; under --json also a JSON error on stdout
    return reportFailure(err, argv.includes('--json'));
  }
}
