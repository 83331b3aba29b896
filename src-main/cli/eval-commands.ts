import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { LabEvent } from '@shared/events';
import { EXIT } from '@shared/errors';
import type { EvalRecord, Stat } from '@shared/eval';
import { CliInputError } from './options';
import { call, openLab, print, type GlobalOpts } from './common';
import type { Lab } from '../api/lab';

const whole = (flag: string, v: string | undefined, min = 0): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new CliInputError(`${flag}: expected a whole number${min ? ` ≥ ${min}` : ''}, got "${v}"`);
  return n;
};
const real = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new CliInputError(`${flag}: expected a number, got "${v}"`);
  return n;
};

const statText = (s: Stat | null | undefined, digits = 3) => (s ? `${s.mean.toFixed(digits)}${s.se === null ? '' : ` ± ${s.se.toFixed(digits)}`}` : '—');

/** The numbers of one evaluation as `lab eval --json` prints them. */
function evalJson(e: EvalRecord) {
  const s = e.summary;
  return {
    evalId: e.id,
    status: e.status,
    error: e.error,
    runId: e.runId,
    name: e.name,
    loss: e.loss,
    n: s?.n ?? 0,
    help: s?.help ?? null,
    harm: s?.harm ?? null,
    sr: s?.sr ?? null,
    winRate: s?.winRate ?? null,
    tokensPerSecond: s?.tokensPerSecond ?? null,
    prompts: e.prompts,
    reward: e.reward,
    cost: e.cost,
    reference: e.reference,
    settings: e.settings,
    benchId: e.benchId,
    // a benchmark's rows carry its oracle's numbers too
    ...(s?.oracleHelp || s?.oracleHarm || s?.oracleSr
      ? { oracleHelp: s.oracleHelp ?? null, oracleHarm: s.oracleHarm ?? null, oracleSr: s.oracleSr ?? null }
      : {}),
  };
}

/** Waits for an evaluation to end, showing its progress on a terminal; Ctrl-C cancels it. */
async function waitForEval(lab: Lab, evalId: number): Promise<void> {
  const tty = process.stderr.isTTY;
  let off = () => {};
  const ended = new Promise<void>((resolve) => {
    off = lab.service.onEvent((e: LabEvent) => {
      if (e.type === 'eval:progress' && e.evalId === evalId && tty) process.stderr.write(`\reval ${evalId}: ${e.done}/${e.total} responses generated`);
      if (e.type === 'eval:status' && e.evalId === evalId && ['done', 'failed', 'cancelled'].includes(e.status)) resolve();
    });
  });
  const onSigint = () => void lab.service.invoke('evals:cancel', { id: evalId });
  process.on('SIGINT', onSigint);
  try {
    const now = await call(lab, 'evals:get', { id: evalId });
    if (now.status === 'queued' || now.status === 'running') await ended;
  } finally {
    off();
    process.off('SIGINT', onSigint);
    if (tty) process.stderr.write('\n');
  }
}

/** `lab eval` (evaluate a run or a model folder and wait) and `lab evals` (the results table, or its CSV). */
export function registerEvalCommands(program: Command): void {
  program
    .command('eval')
    .description('generate responses to prompts and score them: Help (mean reward), Harm (mean cost), S.R. (cost ≤ 0), win rate vs the reference')
    .option('--run <id>', 'an LLM run (its newest checkpoint)')
    .option('--model <dir>', 'a Hugging Face model folder')
    .requiredOption('--prompts <file>', 'JSONL with a "prompt" field per row, or text with one prompt a line')
    .option('--reward <dir>', 'reward model folder (a *ForSequenceClassification scorer)')
    .option('--cost <dir>', 'cost model folder')
    .option('--reference <dir>', "reference policy for the win rate (default: a run's starting model)")
    .option('--samples <n>', 'evaluate the first n prompts (default: all)')
    .option('--max-new-tokens <n>', 'tokens per response', '64')
    .option('--temperature <t>', '0 = greedy', '0')
    .option('--top-p <p>', 'nucleus sampling mass', '1')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--batch-size <n>', 'prompts decoded side by side', '8')
    .option('--prompt-format <name>', 'auto, chat-template or raw', 'auto')
    .option('--responses', 'with --json: include every response and its scores')
    .action(async (flags: Record<string, string | boolean | undefined>, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
      if ((str('run') === undefined) === (str('model') === undefined)) throw new CliInputError('give either --run ID or --model DIR');
      if (str('reward') === undefined && str('cost') === undefined) throw new CliInputError('give --reward DIR, --cost DIR, or both');
      const input = {
        run: whole('--run', str('run'), 1),
        model: str('model'),
        prompts: str('prompts'),
        reward: str('reward'),
        cost: str('cost'),
        reference: str('reference'),
        samples: whole('--samples', str('samples'), 1),
        settings: {
          maxNewTokens: whole('--max-new-tokens', str('maxNewTokens'), 1),
          temperature: real('--temperature', str('temperature')),
          topP: real('--top-p', str('topP')),
          seed: whole('--seed', str('seed')),
          batchSize: whole('--batch-size', str('batchSize'), 1),
          promptFormat: str('promptFormat'),
        },
      };
      const lab = openLab(g);
      try {
        const { evalId } = await call(lab, 'evals:start', input);
        await waitForEval(lab, evalId);
        const e = await call(lab, 'evals:get', { id: evalId });
        const out = evalJson(e);
        const responses = flags.responses ? (await call(lab, 'evals:responses', { id: evalId, limit: 1000 })).rows : undefined;
        print(g.json, responses ? { ...out, responses } : out, () =>
          [
            `eval ${e.id} ${e.status}${e.error ? `: ${e.error}` : ''} · ${e.name}${e.loss ? ` (${e.loss})` : ''} · ${out.n} responses`,
            `  Help      ${statText(out.help)}`,
            `  Harm      ${statText(out.harm)}`,
            `  S.R.      ${statText(out.sr)}`,
            `  win rate  ${statText(out.winRate)}${e.reference ? ` vs ${path.basename(e.reference)}` : ''}`,
            ...(out.tokensPerSecond === null ? [] : [`  ${out.tokensPerSecond.toFixed(1)} tokens/s`]),
          ].join('\n'),
        );
        process.exitCode = e.status === 'done' ? EXIT.ok : e.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
      } finally {
        lab.close();
      }
    });

  program
    .command('evals')
    .description('the results table: one row per evaluation (Help, Harm, S.R., win rate with standard errors)')
    .option('--run <id>', "only this run's evaluations")
    .option('--bench <id>', "only this benchmark session's rows (lab bench safety-tiny)")
    .option('--csv <file>', 'write the table of finished evaluations as CSV')
    .action(async (flags: { run?: string; bench?: string; csv?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const runId = whole('--run', flags.run, 1);
      const benchId = whole('--bench', flags.bench, 1);
      if (flags.csv !== undefined && !fs.existsSync(path.dirname(path.resolve(flags.csv))))
        throw new CliInputError(`--csv: folder ${path.dirname(path.resolve(flags.csv))} does not exist`);
      const lab = openLab(g);
      try {
        const list = await call(lab, 'evals:list', { runId, benchId });
        if (flags.csv !== undefined) {
          const done = list.filter((e) => e.status === 'done').map((e) => e.id);
          const { csv } = await call(lab, 'evals:exportCsv', done.length ? { ids: done } : {});
          fs.writeFileSync(flags.csv, csv);
          print(g.json, { file: path.resolve(flags.csv), rows: done.length }, () => `wrote ${done.length} rows to ${flags.csv}`);
          return;
        }
        print(g.json, list.map(evalJson), () => {
          if (!list.length) return 'no evaluations yet: try `dpo-lab eval --run ID --prompts FILE --reward DIR --cost DIR`';
          const oracle = list.some((e) => e.summary?.oracleHelp || e.summary?.oracleSr);
          const head = [
            'id',
            'status',
            'name',
            'loss',
            'n',
            'Help',
            'Harm',
            'S.R.',
            'win rate',
            ...(oracle ? ['oracle Help', 'oracle Harm', 'oracle S.R.'] : []),
          ];
          const rows = list.map((e) => [
            String(e.id),
            e.status,
            e.name,
            e.loss ?? '',
            String(e.summary?.n ?? ''),
            statText(e.summary?.help),
            statText(e.summary?.harm),
            statText(e.summary?.sr),
            statText(e.summary?.winRate),
            ...(oracle ? [statText(e.summary?.oracleHelp), statText(e.summary?.oracleHarm), statText(e.summary?.oracleSr)] : []),
          ]);
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
          return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
        });
      } finally {
        lab.close();
      }
    });
}
