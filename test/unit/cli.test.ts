/**
 * The CLI's commands, run in process through main(argv): what they print, their exit codes and what they leave in
 * the database. The CLI as a real process (stdin, pipes, serve, the built binary) is test/integration.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { runCli } from './cli-main';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('cli.db');
const lab = (args: string[]) => runCli(db, args);
const runCount = async () => (JSON.parse((await lab(['runs', '--json'])).stdout) as unknown[]).length;

describe('dpo-lab CLI (in process)', () => {
  let runId = 0;

  it('run synthetic --json prints runId, config, final metrics and the K×K probabilities', async () => {
    const r = await lab([
      'run',
      'synthetic',
      '--loss',
      'bdpo',
      '--steps',
      '40',
      '--ref-steps',
      '10',
      '--seed',
      '7',
      '--k',
      '6',
      '--pairs-per-prompt',
      '10',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // stdout carries exactly one JSON document, nothing else
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { runId: number; config: Record<string, unknown>; final: Record<string, number>; probs: number[][]; status: string };
    runId = out.runId;
    expect(out.status).toBe('done');
    expect(out.config).toMatchObject({ loss: 'bdpo', steps: 40, refSteps: 10, seed: 7, K: 6 });
    for (const k of ['expectedUtility', 'pBest', 'oodMass', 'klToRef']) expect(Number.isFinite(out.final[k])).toBe(true);
    expect(out.probs).toHaveLength(6);
    for (const row of out.probs) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it('runs --json lists it; runs (text) shows a table', async () => {
    const r = await lab(['runs', '--json']);
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as { id: number; status: string; loss: string }[];
    expect(runs.find((x) => x.id === runId)).toMatchObject({ status: 'done', loss: 'bdpo' });
    const text = await lab(['runs']);
    expect(text.stdout).toMatch(/id\s+status\s+kind\s+loss/);
    expect(text.stdout).toMatch(new RegExp(`^${runId}\\s+done\\s+synthetic\\s+bdpo\\s+7\\b`, 'm'));
  });

  it('export writes long-format CSV with a header and one row per (step, metric)', async () => {
    const out = tmp.file('run.csv');
    const r = await lab(['export', '--run', String(runId), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(fs.readFileSync(out, 'utf8'), { columns: true }) as { run_id: string; step: string; name: string; value: string }[];
    expect(Object.keys(rows[0])).toEqual(['run_id', 'step', 'name', 'value']);
    const losses = rows.filter((x) => x.name === 'loss');
    expect(losses.map((x) => Number(x.step))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(rows.every((x) => x.run_id === String(runId))).toBe(true);
    expect(r.stdout).toContain(`wrote ${rows.length} rows`);
  });

  it('export without --out writes the same CSV to stdout; a missing folder is exit 2 naming it', async () => {
    const out = tmp.file('run-again.csv');
    expect((await lab(['export', '--run', String(runId), '--out', out])).code).toBe(0);
    const r = await lab(['export', '--run', String(runId)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(out, 'utf8'));
    const missing = await lab(['export', '--run', String(runId), '--out', tmp.file('no/such/dir/x.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out: folder .*no\/such\/dir does not exist/);
  });

  it('rejects bad input with a message naming the flag and exit code 2, saving nothing', async () => {
    const before = await runCount();
    const cases: [string[], RegExp][] = [
      [['run', 'synthetic', '--loss', 'nope'], /--loss: unknown loss "nope"; valid losses: dpo, nbdpo-asymm/],
      [['run', 'synthetic', '--lr', '-1'], /--lr: lr must be positive/],
      [['run', 'synthetic', '--mask', '1'], /--mask: mask must be in \[0, 1\)/],
      [['run', 'synthetic', '--steps', 'ten'], /--steps: expected a decimal number/],
      [['run', 'synthetic', '--steps', '0x14'], /--steps: expected a decimal number, got "0x14"/],
      [['run', 'synthetic', '--k', '1'], /--k: K must be at least 2/],
      [['run', 'synthetic', '--steps', '1.5'], /--steps: steps must be a whole number/],
      [['run', 'synthetic', '--steps', '0'], /--steps: steps must be at least 1/],
      [['run', 'synthetic', '--backend', 'quantum'], /--backend: expected one of/],
      [['export', '--run', '99999', '--out', tmp.file('x.csv')], /run 99999 does not exist/],
      [['export', '--run', 'one', '--out', tmp.file('x.csv')], /--run: expected a run id, got "one"/],
      [['run', 'synthetic', '--no-such-flag'], /unknown option '--no-such-flag'/],
    ];
    for (const [args, message] of cases) {
      const r = await lab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(fs.existsSync(tmp.file('x.csv'))).toBe(false);
    expect(await runCount()).toBe(before);
  });

  it('--help lists every run-config field as a flag, with its default', async () => {
    const r = await lab(['run', 'synthetic', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--loss', '--model', '--mask', '--ref-steps', '--lr', '--batch-size', '--beta', '--clip', '--label-smoothing', '--eval-every'])
      expect(r.stdout).toContain(flag);
  });

  it('loss --input FILE prints per-pair losses and gradients for the worked example (losses.md)', async () => {
    const file = tmp.file('pairs.json');
    fs.writeFileSync(file, JSON.stringify({ logp_w: [-2], logp_l: [-3], ref_w: [-2.5], ref_l: [-2.8], losses: ['dpo', 'nbdpo-asymm'] }));
    const r = await lab(['loss', '--input', file]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { loss: number[]; grad_w: number[]; grad_l: number[] }>;
    expect(Object.keys(out)).toEqual(['dpo', 'nbdpo-asymm']);
    expect(out.dpo.loss[0]).toBeCloseTo(0.403186, 5);
    expect(out.dpo.grad_w[0]).toBeCloseTo(-0.331812, 5);
    expect(out['nbdpo-asymm'].grad_w[0]).toBeCloseTo(-0.497718, 5);
    expect(out['nbdpo-asymm'].grad_l[0]).toBeCloseTo(0.331812, 5);
  });

  it("takes TRL's loss_type names: --loss sigmoid --label-smoothing runs cdpo; loss --input keys them as asked", async () => {
    const small = ['--steps', '5', '--ref-steps', '2', '--k', '4', '--pairs-per-prompt', '4', '--json'];
    // (sigmoid at ε = 0 → dpo is trl-parity.test.ts's; one run shows the CLI applies the mapping with its ε)
    const smoothed = await lab(['run', 'synthetic', '--loss', 'sigmoid', '--label-smoothing', '0.1', ...small]);
    expect(smoothed.code, smoothed.stderr).toBe(0);
    const { runId } = JSON.parse(smoothed.stdout) as { runId: number };
    // stored under the lab's own name
    const runs = JSON.parse((await lab(['runs', '--json'])).stdout) as { id: number; loss: string; config: object }[];
    expect(runs.find((r) => r.id === runId)).toMatchObject({ loss: 'cdpo', config: { loss: 'cdpo', labelSmoothing: 0.1 } });

    const file = tmp.file('trl-pairs.json');
    fs.writeFileSync(file, JSON.stringify({ logp_w: [-2], logp_l: [-3], ref_w: [-2.5], ref_l: [-2.8], label_smoothing: 0.1, losses: ['sigmoid', 'cdpo'] }));
    const r = await lab(['loss', '--input', file]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { loss: number[] }>;
    expect(Object.keys(out)).toEqual(['sigmoid', 'cdpo']);
    expect(out.sigmoid).toEqual(out.cdpo);
    fs.writeFileSync(file, JSON.stringify({ logp_w: [-2], logp_l: [-3], ref_w: [-2.5], ref_l: [-2.8], losses: ['robust'] }));
    const bad = await lab(['loss', '--input', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/losses\[0\]: unknown loss "robust"; valid losses: dpo, .* \(or TRL's sigmoid, ipo, hinge\)/);
  });

  it('loss --input names the file and the offending field, exit code 2', async () => {
    const file = tmp.file('bad-pairs.json');
    fs.writeFileSync(file, JSON.stringify({ logp_w: [-2, -1], logp_l: [-3], ref_w: [-2.5], ref_l: [-2.8] }));
    const r = await lab(['loss', '--input', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-pairs.json: invalid loss input');
    expect(r.stderr).toMatch(/logp_l: has 1 entries but logp_w has 2/);
    const missing = await lab(['loss', '--input', tmp.file('nowhere.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nowhere\.json: no such file/);
  });
});
