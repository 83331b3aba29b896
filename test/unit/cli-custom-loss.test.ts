/**
 * Issue 11 item 1 on the command line: `loss --formula`, `run synthetic --loss-formula [--loss-name]` (alone and
 * beside --loss dpo), a saved custom loss by --loss-name, located errors with exit 2, and the formula on the run's
 * config and in its bundle.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { runCli } from './cli-main';
import { tempDir } from './tmp';
import { BUILTIN_FORMULAS } from '@shared/formula';
import { decodeBundle } from '../../src-main/bundle/codec';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('cli-custom.db');
const lab = (args: string[]) => runCli(db, args);
const SMALL = ['--steps', '40', '--ref-steps', '10', '--seed', '3', '--k', '6', '--pairs-per-prompt', '10'];
const REWEIGHTED = 'w = sg(2 * sigmoid(logp_l - logp_w))\n-w * logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))';

interface Outcome {
  runId: number;
  status: string;
  config: Record<string, unknown>;
  final: Record<string, number>;
}

describe('custom losses in the CLI', () => {
  const pairs = tmp.file('pairs.json');
  fs.writeFileSync(pairs, JSON.stringify({ logp_w: [-2, -0.5, -9], logp_l: [-3, -0.4, -1], ref_w: [-2.5, -0.6, -5], ref_l: [-2.8, -0.45, -4], beta: 0.7 }));

  it('loss --formula --input F --json prints {"custom": {loss, grad_w, grad_l}} as `loss` prints a built-in', async () => {
    const r = await lab(['loss', '--formula', BUILTIN_FORMULAS.dpo, '--input', pairs, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { loss: number[]; grad_w: number[]; grad_l: number[] }>;
    expect(Object.keys(out)).toEqual(['custom']);
    const builtIn = JSON.parse((await lab(['loss', '--input', pairs])).stdout) as typeof out;
    for (const k of ['loss', 'grad_w', 'grad_l'] as const) {
      expect(out.custom[k]).toHaveLength(3);
      out.custom[k].forEach((v, i) => expect(v).toBeCloseTo(builtIn.dpo[k][i], 6));
    }
  });

  it('a bad formula is exit 2 with the formula and a caret under the offending character', async () => {
    const r = await lab(['loss', '--formula', '-logsigmoid(beta * (logp_w - ref_x))', '--input', pairs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--formula: invalid loss formula (at character 30):\n-logsigmoid(beta * (logp_w - ref_x))\n' + ' '.repeat(29) + '^^^^^\n');
    expect(r.stderr).toMatch(/column 30: unknown name ref_x; did you mean ref_w\?/);
    const multi = await lab(['run', 'synthetic', ...SMALL, '--loss-formula', 'lam = sg(logp_l)\n-logsigmoid(lam * beta * (logp_w - ref_w) - clip(logp_l, 1))']);
    expect(multi.code).toBe(2);
    expect(multi.stderr).toMatch(/-logsigmoid\(lam \* beta \* \(logp_w - ref_w\) - clip\(logp_l, 1\)\)\n\s+\^+\nline 2, column 45: clip takes 3 arguments/);
    const noFormula = await lab(['run', 'synthetic', ...SMALL, '--loss', 'dpo,custom']);
    expect(noFormula.code).toBe(2);
    expect(noFormula.stderr).toMatch(/--loss custom needs --loss-formula/);
    const clash = await lab(['run', 'synthetic', ...SMALL, '--loss-formula', BUILTIN_FORMULAS.dpo, '--loss-name', 'bdpo']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--loss-name: "bdpo" is the name of a built-in loss/);
    expect(JSON.parse((await lab(['runs', '--json'])).stdout)).toEqual([]);
  });

  let customRun = 0;
  it('run synthetic --loss dpo --loss-formula (dpo typed in): two runs side by side, the custom one reproduces dpo', async () => {
    const r = await lab(['run', 'synthetic', ...SMALL, '--loss', 'dpo', '--loss-formula', BUILTIN_FORMULAS.dpo, '--loss-name', 'typed dpo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runs } = JSON.parse(r.stdout) as { runs: Outcome[] };
    expect(runs.map((o) => [o.status, o.config.loss, o.config.customLoss])).toEqual([
      ['done', 'dpo', undefined],
      ['done', 'custom', { name: 'typed dpo', formula: BUILTIN_FORMULAS.dpo }],
    ]);
    for (const [k, v] of Object.entries(runs[0].final)) expect(Math.abs(runs[1].final[k] - v), k).toBeLessThan(1e-6);
    customRun = runs[1].runId;
    const listed = JSON.parse((await lab(['runs', '--loss', 'typed dpo', '--json'])).stdout) as { id: number }[];
    expect(listed.map((x) => x.id)).toEqual([customRun]);
    expect((await lab(['runs'])).stdout).toMatch(new RegExp(`^${customRun}\\s+done\\s+synthetic\\s+typed dpo\\s+3\\b`, 'm'));
  });

  it('the formula travels in the run bundle', async () => {
    const out = tmp.file('custom.dpolab.json.gz');
    const r = await lab(['bundle', '--run', String(customRun), '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { content } = decodeBundle(fs.readFileSync(out), out);
    expect(content.runs[0].customLoss).toEqual({ name: 'typed dpo', formula: BUILTIN_FORMULAS.dpo });
    expect(content.runs[0].config).toMatchObject({ loss: 'custom', customLoss: { name: 'typed dpo' } });
    // into another lab: the imported run is the custom loss, and reruns there reproduce it exactly
    const other = tmp.file('other.db');
    const imported = await runCli(other, ['import', out, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const runs = JSON.parse((await runCli(other, ['runs', '--loss', 'typed dpo', '--json'])).stdout) as { id: number; config: Record<string, unknown> }[];
    expect(runs.map((r) => r.config.customLoss)).toEqual([{ name: 'typed dpo', formula: BUILTIN_FORMULAS.dpo }]);
    const rerun = await runCli(other, ['rerun', '--run', String(runs[0].id), '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((JSON.parse(rerun.stdout) as { comparison: { exact: boolean; summary: string } }).comparison).toMatchObject({ exact: true });
  });

  it('--loss-name alone runs a custom loss saved in the lab; an unknown name lists the saved ones', async () => {
    const app = createLab({ dbFile: db, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
    try {
      const saved = await app.service.invoke('losses:saveCustom', { name: 'reweighted', formula: REWEIGHTED });
      expect(saved.ok).toBe(true);
    } finally {
      app.close();
    }
    const r = await lab(['run', 'synthetic', ...SMALL, '--loss-name', 'reweighted', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Outcome;
    expect(o.config).toMatchObject({ loss: 'custom', customLoss: { name: 'reweighted', formula: REWEIGHTED } });
    expect(Number.isFinite(o.final.expectedUtility)).toBe(true);
    const missing = await lab(['run', 'synthetic', ...SMALL, '--loss-name', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--loss-name: no saved custom loss "nope" \(saved: reweighted\)/);
  });
});
