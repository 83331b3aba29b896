/**
 * `bundle`, `import` and `rerun`: experiment bundles from the command line, through the same service commands as
 * the app (bundles:export, bundles:import, runs:rerun). Importing a bundle the lab already holds is not an error:
 * it exits 0, says so, and names the runs of the earlier import.
 */
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { compareFinals, MAX_BUNDLE_BYTES, type RerunComparison } from '@shared/bundle';
import { EXIT } from '@shared/errors';
import { CliInputError } from './options';
import { call, openLab, print, waitForRuns, type GlobalOpts } from './common';

function positiveId(flag: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new CliInputError(`${flag}: expected an id, got "${s}"`);
  return n;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function comparisonText(c: RerunComparison): string {
  if (c.exact || !c.differences.length) return c.summary;
  const rows = c.differences.map(
    (d) =>
      `  ${d.metric.padEnd(26)} ${String(d.original ?? 'missing').padStart(22)} → ${String(d.rerun ?? 'missing').padStart(22)}${d.diff !== null ? `  (${d.diff >= 0 ? '+' : ''}${d.diff.toExponential(3)})` : ''}`,
  );
  return [`${c.differences.length} final metric(s) differ${c.sameBackend ? '' : ` (backend ${c.originalBackend} → ${c.rerunBackend})`}:`, ...rows].join('\n');
}

export function registerBundleCommands(program: Command): void {
  program
    .command('bundle')
    .description('write a run or a sweep as one experiment bundle file (configs, datasets or fingerprints, metrics)')
    .option('--run <id>', 'the run to bundle')
    .option('--sweep <id>', 'the sweep to bundle, with all its runs')
    .requiredOption('--out <file>', 'bundle file to write (e.g. run-3.dpolab.json.gz)')
    .action(async (flags: { run?: string; sweep?: string; out: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const runId = positiveId('--run', flags.run);
      const sweepId = positiveId('--sweep', flags.sweep);
      if ((runId === undefined) === (sweepId === undefined)) throw new CliInputError('give --run ID or --sweep ID (one of them)');
      const dir = path.dirname(path.resolve(flags.out));
      if (!fs.existsSync(dir)) throw new CliInputError(`--out: folder ${dir} does not exist`);
      const lab = openLab(g);
      try {
        const r = await call(lab, 'bundles:export', { runId, sweepId });
        fs.writeFileSync(flags.out, Buffer.from(r.data, 'base64'));
        const out = { file: path.resolve(flags.out), bytes: r.bytes, contentHash: r.contentHash, runIds: r.runIds };
        print(g.json, out, () => `wrote ${flags.out} (${r.runIds.length} run(s), ${mib(r.bytes)}, sha256 ${r.contentHash.slice(0, 12)}…)`);
      } finally {
        lab.close();
      }
    });

  program
    .command('import')
    .description('load a bundle file into this lab (new ids; a bundle imported before is recognised and not added again)')
    .argument('<file>', 'bundle file')
    .action(async (file: string, _flags: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch (err) {
        throw new CliInputError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      if (size > MAX_BUNDLE_BYTES) throw new CliInputError(`${file}: ${mib(size)} is larger than the ${mib(MAX_BUNDLE_BYTES)} limit for a bundle`);
      const data = fs.readFileSync(file).toString('base64');
      const lab = openLab(g);
      try {
        const r = await call(lab, 'bundles:import', { filename: path.basename(file), data });
        print(g.json, r, () => r.message);
      } finally {
        lab.close();
      }
    });

  program
    .command('rerun')
    .description("train a run's config again and compare the final metrics (an LLM run: only if its model and data match)")
    .requiredOption('--run <id>', 'the run to repeat')
    .option('--model <dir>', "LLM runs: the model folder here, when not at the run's path")
    .option('--data <file>', "LLM runs: the data file here, when not at the run's path")
    .action(async (flags: { run: string; model?: string; data?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const id = positiveId('--run', flags.run)!;
      const lab = openLab(g);
      try {
        const { runId, sourceRunId } = await call(lab, 'runs:rerun', { id, model: flags.model, data: flags.data });
        await waitForRuns(lab, [runId], `rerun ${runId} of run ${sourceRunId}`);
        const [source, rerun] = await Promise.all([call(lab, 'runs:get', { id: sourceRunId }), call(lab, 'runs:get', { id: runId })]);
        const comparison = compareFinals(source, rerun);
        const out = { runId, sourceRunId, status: rerun.status, backend: rerun.backend, final: rerun.final, error: rerun.error, comparison };
        print(g.json, out, () =>
          [
            `run ${runId} (rerun of run ${sourceRunId}) ${rerun.status}${rerun.error ? `: ${rerun.error}` : ''} (${rerun.backend ?? 'no backend'})`,
            comparisonText(comparison),
          ].join('\n'),
        );
        process.exitCode = rerun.status === 'done' ? EXIT.ok : rerun.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
      } finally {
        lab.close();
      }
    });
}
