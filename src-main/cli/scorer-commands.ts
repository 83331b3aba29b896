import type { Command } from 'commander';
import type { LabEvent } from '@shared/events';
import { EXIT } from '@shared/errors';
import type { ScorerRecord } from '@shared/scorers';
import { CliInputError } from './options';
import { call, openLab, print, type GlobalOpts } from './common';
import type { Lab } from '../api/lab';

const whole = (flag: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new CliInputError(`${flag}: expected a whole number ≥ ${min}, got "${v}"`);
  return n;
};
const positive = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new CliInputError(`${flag}: expected a positive number, got "${v}"`);
  return n;
};
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);

/** Waits for a training to end, showing its steps on a terminal; Ctrl-C cancels it. */
async function waitForScorer(lab: Lab, scorerId: number): Promise<void> {
  const tty = process.stderr.isTTY;
  let off = () => {};
  const ended = new Promise<void>((resolve) => {
    off = lab.service.onEvent((e: LabEvent) => {
      if (e.type === 'scorer:progress' && e.scorerId === scorerId && tty)
        process.stderr.write(`\rscorer ${scorerId}: step ${e.step}/${e.steps}, loss ${e.loss.toFixed(4)}`);
      if (e.type === 'scorer:status' && e.scorerId === scorerId && ['done', 'failed', 'cancelled'].includes(e.status)) resolve();
    });
  });
  const onSigint = () => void lab.service.invoke('scorers:cancel', { id: scorerId });
  process.on('SIGINT', onSigint);
  try {
    const now = await call(lab, 'scorers:get', { id: scorerId });
    if (now.status === 'queued' || now.status === 'running') await ended;
  } finally {
    off();
    process.off('SIGINT', onSigint);
    if (tty) process.stderr.write('\n');
  }
}

/** What `lab train-scorer --json` prints for a finished training. */
function scorerJson(s: ScorerRecord) {
  return {
    scorerId: s.id,
    kind: s.kind,
    out: s.out,
    accuracy: s.result?.accuracy ?? null,
    ...(s.kind === 'cost' ? { signAccuracy: s.result?.signAccuracy ?? null } : {}),
    trainPairs: s.result?.trainPairs ?? 0,
    evalPairs: s.result?.evalPairs ?? 0,
    steps: s.result?.steps ?? 0,
    seconds: s.result?.seconds ?? null,
  };
}

/** `lab train-scorer` (train a reward or cost model in a worker and wait) and `lab scorers` (the trainings so far). */
export function registerScorerCommands(program: Command): void {
  program
    .command('train-scorer')
    .description('train a reward model (Bradley–Terry) or a cost model (safe-rlhf, needs safety labels) from a model folder on preference data')
    .requiredOption('--kind <kind>', 'reward or cost')
    .requiredOption('--model <dir>', 'the causal LM folder the scorer starts from')
    .requiredOption('--data <file>', 'preference file: HH-RLHF, PKU-SafeRLHF or generic prompt/chosen/rejected (JSONL, CSV, Parquet)')
    .requiredOption('--out <dir>', 'the scorer folder to write (new or empty)')
    .option('--steps <n>', 'optimizer steps', '200')
    .option('--lr <x>', 'learning rate', '0.001')
    .option('--max-length <n>', 'tokens per sequence (the start is kept)', '256')
    .option('--batch-size <n>', 'pairs per step', '8')
    .option('--eval-fraction <x>', 'share of pairs held out for accuracy', '0.1')
    .option('--seed <n>', 'seed of the split, the head and the order', '0')
    .action(async (flags: Record<string, string | undefined>, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      if (flags.kind !== 'reward' && flags.kind !== 'cost') throw new CliInputError(`--kind: expected reward or cost, got "${flags.kind}"`);
      const input = {
        kind: flags.kind,
        model: flags.model,
        data: flags.data,
        out: flags.out,
        settings: {
          steps: whole('--steps', flags.steps, 1),
          lr: positive('--lr', flags.lr),
          maxLength: whole('--max-length', flags.maxLength, 2),
          batchSize: whole('--batch-size', flags.batchSize, 1),
          evalFraction: positive('--eval-fraction', flags.evalFraction),
          seed: whole('--seed', flags.seed, 0),
        },
      };
      const lab = openLab(g);
      try {
        const { scorerId } = await call(lab, 'scorers:train', input);
        await waitForScorer(lab, scorerId);
        const s = await call(lab, 'scorers:get', { id: scorerId });
        if (s.status !== 'done') {
          process.stderr.write(`error: scorer training ${s.id} ${s.status}${s.error ? `: ${s.error}` : ''}\n`);
          if (g.json) process.stdout.write(JSON.stringify({ ok: false, error: { code: 'internal', message: s.error ?? s.status } }) + '\n');
          process.exitCode = s.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
          return;
        }
        const out = scorerJson(s);
        print(g.json, out, () =>
          [
            `${s.kind} model written to ${s.out}`,
            `  held-out accuracy  ${pct(out.accuracy)} on ${out.evalPairs} pairs (${out.trainPairs} trained on, ${out.steps} steps)`,
            ...(s.kind === 'cost' ? [`  sign accuracy      ${pct(s.result?.signAccuracy)}`] : []),
          ].join('\n'),
        );
        process.exitCode = EXIT.ok;
      } finally {
        lab.close();
      }
    });

  program
    .command('scorers')
    .description('the reward and cost models trained in the lab, with their held-out accuracy')
    .action(async (_flags: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const lab = openLab(g);
      try {
        const list = await call(lab, 'scorers:list', {});
        print(g.json, list.map(scorerJson), () => {
          if (!list.length) return 'no scorers trained yet: try `dpo-lab train-scorer --kind reward --model DIR --data FILE --out DIR`';
          const head = ['id', 'kind', 'status', 'accuracy', 'sign acc.', 'out'];
          const rows = list.map((s) => [String(s.id), s.kind, s.status, pct(s.result?.accuracy), s.kind === 'cost' ? pct(s.result?.signAccuracy) : '', s.out]);
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
          return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
        });
      } finally {
        lab.close();
      }
    });
}
