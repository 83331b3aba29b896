import type { Command } from 'commander';
import { statsCliJson, type StatsResult } from '@shared/run-stats';
import { CliInputError } from './options';
import { call, openLab, print, type GlobalOpts } from './common';

const fmt = (x: number | null, digits = 4): string => (x === null ? '—' : Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(digits) : x.toExponential(2));

function statsText(r: StatsResult): string {
  const lines = [`${r.metric} by ${r.groupBy ?? (r.fields.length ? r.fields.join(', ') : 'all (nothing but the seed differs)')}`];
  for (const g of r.groups)
    lines.push(`  ${g.key}: n=${g.n} mean=${fmt(g.mean)} std=${fmt(g.std)} 95% CI [${fmt(g.ci95?.[0] ?? null)}, ${fmt(g.ci95?.[1] ?? null)}]`);
  if (r.tests.length) lines.push(`Welch's t-tests, Holm-corrected over ${r.tests.length} pair(s):`);
  for (const t of r.tests)
    lines.push(`  ${t.a} vs ${t.b}: t=${fmt(t.t, 3)} df=${fmt(t.df, 1)} p=${fmt(t.p)} pHolm=${fmt(t.pHolm)}${t.significant ? ` (differs at ${r.alpha})` : ''}`);
  return lines.join('\n');
}

function parseIds(raw: string[]): number[] {
  return raw
    .flatMap((s) => s.split(','))
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n <= 0) throw new CliInputError(`--runs: expected run ids (1,2,3 or 1 2 3), got "${s}"`);
      return n;
    });
}

/** `dpo-lab stats`: significance across seeds (see src-shared/run-stats.ts). */
export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description("per-group mean, std and 95% t-interval of a final metric; Welch's t-tests between groups, Holm-corrected")
    .requiredOption('--runs <ids...>', 'run ids (comma- or space-separated)')
    .requiredOption('--metric <name>', 'final metric, e.g. expectedUtility')
    .option('--group-by <field>', 'config field to group by (default: every field but the seed)')
    .option('--bootstrap <resamples>', 'also a seeded percentile-bootstrap 95% interval per group')
    .option('--bootstrap-seed <n>', 'seed of the bootstrap', '0')
    .action(async (flags: { runs: string[]; metric: string; groupBy?: string; bootstrap?: string; bootstrapSeed: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const ids = parseIds(flags.runs);
      const bootstrap = flags.bootstrap === undefined ? undefined : { resamples: Number(flags.bootstrap), seed: Number(flags.bootstrapSeed) };
      const lab = openLab(g);
      try {
        const r = await call(lab, 'stats:compute', { ids, metric: flags.metric, groupBy: flags.groupBy, bootstrap });
        for (const s of r.skipped) process.stderr.write(`note: run ${s.id} left out: ${s.reason}\n`);
        print(g.json, statsCliJson(r), () => statsText(r));
      } finally {
        lab.close();
      }
    });
}
