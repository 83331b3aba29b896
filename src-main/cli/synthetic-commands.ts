import type { Command } from 'commander';
import { PAPER_LOSSES } from '@shared/losses';
import { TheoryInputSchema } from '@shared/theory';
import type { SweepSummary } from '@shared/sweeps';
import type { LabEvent } from '@shared/events';
import { EXIT } from '@shared/errors';
import { table1Text } from './table1-text';
import { sensitivityText } from './sensitivity-text';
import { SENSITIVITY_AXES, sensitivityRunCount } from '@shared/sensitivity';
import { call, CliCommandError, openComputeLab, openLab, print, readInput, waitForRuns, type GlobalOpts } from './common';
import type { Lab } from '../api/lab';
import type { SweepRecord } from '@shared/runs';
import { REPORT_FORMATS } from '@shared/report';
import { sensitivitySentence } from '@shared/sensitivity-sentence';
import path from 'node:path';
import { addSchemaOptions, CliInputError, valuesFromFlags } from './options';
import { parseJsonText } from '../util/json-file';
import fs from 'node:fs';
import type { SensitivityStudy } from '@shared/sensitivity';

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

/** Starts a sweep and waits until it is over and summarised (progress on stderr); the lab stays open. */
async function startAndAwaitSweep(lab: Lab, input: Record<string, unknown>): Promise<{ sweep: SweepRecord; runIds: number[]; seconds: number }> {
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
  try {
    const { sweepId, runIds } = await call(lab, 'sweeps:start', input);
    await waitForRuns(lab, runIds, `sweep ${sweepId} (${runIds.length} runs)`);
    await new Promise<void>((resolve) => {
      announce = () => finished.has(sweepId) && resolve();
      announce();
    });
    return { sweep: await call(lab, 'sweeps:get', { id: sweepId }), runIds, seconds: (Date.now() - t0) / 1000 };
  } finally {
    off();
  }
}

const exitOf = (status: string) => (status === 'done' ? EXIT.ok : status === 'cancelled' ? EXIT.cancelled : EXIT.failed);

async function runSweep(cmd: Command, input: Record<string, unknown>): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const lab = openLab(g);
  try {
    const { sweep, runIds, seconds } = await startAndAwaitSweep(lab, input);
    const summary = sweep.summary as SweepSummary;
    print(g.json, { sweepId: sweep.id, status: sweep.status, runIds, seconds, summary }, () =>
      [
        `sweep ${sweep.id} ${sweep.status}: ${runIds.length} runs in ${seconds.toFixed(1)} s`,
        summary.preset === 'table1' ? table1Text(summary) : summary.sensitivity ? sensitivityText(summary.sensitivity) : genericText(summary),
      ].join('\n'),
    );
    process.exitCode = exitOf(sweep.status);
  } finally {
    lab.close();
  }
}

interface ReportFlags {
  table1?: string;
  sensitivity?: string | boolean;
  seeds?: string;
  steps?: string;
  format: string;
  out: string;
}

/**
 * Where stderr is not a terminal (a log file, a background job) there is no progress bar: a line every 30 s
 * with the runs finished so far tells a long study is moving.
 */
function progressLines(lab: Lab, what: string, everyMs = 30_000): () => void {
  if (process.stderr.isTTY) return () => undefined;
  const t0 = Date.now();
  let ended = 0;
  // runs train in batched programs, so they end together: the steps of the runs in training say more
  const training = new Map<number, { done: number; total: number }>();
  const off = lab.service.onEvent((e: LabEvent) => {
    if (e.type === 'run:progress') training.set(e.runId, { done: e.done, total: e.total });
    if (e.type === 'run:status' && (e.status === 'done' || e.status === 'failed' || e.status === 'cancelled')) {
      ended++;
      training.delete(e.runId);
    }
  });
  const line = () => {
    let done = 0;
    let total = 0;
    for (const p of training.values()) {
      done += p.done;
      total += p.total;
    }
    const through = total > 0 ? ` (${Math.round((100 * done) / total)}% through their steps)` : '';
    process.stderr.write(`${what}: ${ended} runs over, ${training.size} training${through}, after ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  };
  const timer = setInterval(line, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    off();
  };
}

/** The folder of --out must exist before any sweep runs: a typo should cost a second, not fifteen minutes. */
function checkOutFolder(out: string): string {
  const abs = path.resolve(out);
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliInputError(`--out: folder ${dir} does not exist`);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new CliInputError(`--out: ${abs} is a folder; give a file name`);
  return abs;
}

/**
 * report table1: with sweep ids, the report of those; without, it runs the Table 1 sweep (and the sensitivity
 * study with a bare --sensitivity) with --seeds N first, then writes the report of what it ran.
 */
async function reportTable1(flags: ReportFlags, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const table1Id = intFlag('--table1', flags.table1);
  const sensId = typeof flags.sensitivity === 'string' ? intFlag('--sensitivity', flags.sensitivity) : undefined;
  const runTable1 = table1Id === undefined && sensId === undefined;
  const runSens = flags.sensitivity === true;
  if (flags.seeds !== undefined && !runTable1 && !runSens)
    throw new CliInputError('--seeds: applies only to sweeps this command runs; the sweeps given by id keep their seeds');
  if (flags.steps !== undefined && !runTable1) throw new CliInputError('--steps: applies only to the Table 1 sweep this command runs');
  const steps = intFlag('--steps', flags.steps);
  const seeds = intFlag('--seeds', flags.seeds) ?? 3;
  const format = flags.format;
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new CliInputError(`--format: expected ${REPORT_FORMATS.join(' or ')}, got "${format}"`);
  const out = checkOutFolder(flags.out);
  const lab = openLab(g);
  try {
    const t0 = Date.now();
    const ran: { preset: string; sweepId: number; status: string; runs: number; seconds: number }[] = [];
    const run = async (preset: 'table1' | 'sensitivity') => {
      process.stderr.write(`running the ${preset === 'table1' ? 'Table 1 sweep' : 'sensitivity study'} with ${seeds} seed${seeds === 1 ? '' : 's'}…\n`);
      const stopLines = progressLines(lab, preset);
      const { sweep, runIds, seconds } = await startAndAwaitSweep(lab, { preset, seeds, ...(preset === 'table1' && steps ? { steps } : {}) }).finally(
        stopLines,
      );
      process.stderr.write(`sweep ${sweep.id} (${preset}) ${sweep.status}: ${runIds.length} runs in ${seconds.toFixed(1)} s\n`);
      ran.push({ preset, sweepId: sweep.id, status: sweep.status, runs: runIds.length, seconds });
      if (sweep.status !== 'done') throw new CliCommandError(`sweep ${sweep.id} (${preset}) ${sweep.status}; no report written`, exitOf(sweep.status));
      return sweep.id;
    };
    const t1 = runTable1 ? await run('table1') : table1Id;
    const sens = runSens ? await run('sensitivity') : sensId;
    process.stderr.write('writing the report…\n');
    const report = await call(lab, 'sweeps:report', { table1: t1, sensitivity: sens, format, filename: path.basename(out) });
    const files = [out];
    fs.writeFileSync(out, report.content);
    for (const a of report.assets) {
      const file = path.join(path.dirname(out), a.filename);
      fs.writeFileSync(file, a.content);
      files.push(file);
    }
    const seconds = (Date.now() - t0) / 1000;
    const study =
      sens !== undefined ? ((await call(lab, 'sweeps:get', { id: sens })).summary as { sensitivity?: SensitivityStudy } | null)?.sensitivity : undefined;
    const sentence = study ? sensitivitySentence(study) : undefined;
    print(g.json, { out, files, bytes: Buffer.byteLength(report.content), sweeps: ran, table1: t1, sensitivity: sens, seconds, sentence }, () =>
      [
        ...(sentence ? [sentence] : []),
        ...files.map((f) => `wrote ${f}`),
        `${ran.length ? `ran ${ran.map((r) => `sweep ${r.sweepId} (${r.preset}, ${r.runs} runs, ${r.seconds.toFixed(1)} s)`).join(', ')}; ` : ''}total ${seconds.toFixed(1)} s`,
      ].join('\n'),
    );
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
    .description(
      'Table 1 ours vs the paper (mean ± 95% interval), the sensitivity study with its summary, Figure 2 heatmaps, the balance diagnostics and Figure 1, as one HTML file with its data inside (or Markdown with SVG and CSV files beside it). Without sweep ids it runs the sweeps first.',
    )
    .option('--table1 <sweepId>', 'a finished Table 1 sweep (lab sweep table1); without any sweep id the command runs one')
    .option('--sensitivity [sweepId]', 'a finished sensitivity sweep (lab sweep sensitivity); bare: run the sensitivity study too')
    .option('--seeds <n>', 'seeds per cell for the sweeps this command runs (default 3)')
    .option('--steps <n>', 'training steps of the Table 1 sweep this command runs (default 1000)')
    .option('--format <format>', `${REPORT_FORMATS.join(' or ')}: md writes FILE.md with FILE-*.svg and FILE-*.csv beside it`, 'html')
    .requiredOption('--out <file>', 'the report file to write')
    .action(reportTable1);

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
