import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { computeTheory } from '../../src-main/engine/synthetic/theory';
import { tempDir } from '../unit/tmp';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('synthetic-cli.db');

function lab(args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'cpu', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}
const runCount = () => (JSON.parse(lab(['runs', '--json']).stdout) as unknown[]).length;
const tiny = ['--steps', '30', '--ref-steps', '10', '--k', '5', '--pairs-per-prompt', '8', '--eval-every', '10'];

describe('synthetic lab from the CLI', () => {
  it('exports the dataset a run used; training on that file reproduces the run exactly', () => {
    const file = tmp.file('ds.json');
    const a = lab(['run', 'synthetic', ...tiny, '--seed', '3', '--mask', '0.2', '--export-dataset', file, '--json']);
    expect(a.code, a.stderr).toBe(0);
    const ds = JSON.parse(fs.readFileSync(file, 'utf8')) as { K: number; alpha: number; mask: number[][]; pairs: number[][] };
    expect(ds).toMatchObject({ K: 5, alpha: 0.6 });
    expect(ds.mask.length).toBeGreaterThan(0);
    expect(ds.pairs.length).toBe(5 * 8);
    const b = lab(['run', 'synthetic', ...tiny, '--seed', '3', '--mask', '0.2', '--dataset', file, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const fa = JSON.parse(a.stdout) as { final: Record<string, number>; probs: number[][] };
    const fb = JSON.parse(b.stdout) as { final: Record<string, number>; probs: number[][] };
    expect(fb.final).toEqual(fa.final);
    expect(fb.probs).toEqual(fa.probs);
  });

  it('refuses a dataset that disagrees with the config or is malformed, naming the field, and saves no run', () => {
    const before = runCount();
    const good = JSON.parse(fs.readFileSync(tmp.file('ds.json'), 'utf8')) as { K: number; pairs: number[][] };
    const wrongK = tmp.file('wrongK.json');
    fs.writeFileSync(wrongK, JSON.stringify({ ...good, K: 7 }));
    const r1 = lab(['run', 'synthetic', ...tiny, '--dataset', wrongK]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/K/);
    expect(r1.stderr).toMatch(/7/);
    const badPair = tmp.file('badPair.json');
    fs.writeFileSync(
      badPair,
      JSON.stringify({
        ...good,
        pairs: [
          [0, 1, 2],
          [1, 9, 0],
        ],
      }),
    );
    const r2 = lab(['run', 'synthetic', ...tiny, '--dataset', badPair]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/pairs\[1\]\[1\]/);
    const notJson = tmp.file('broken.json');
    fs.writeFileSync(notJson, '{"K": 5,\n "pairs": [[0,1,2],\n oops]}');
    const r3 = lab(['run', 'synthetic', ...tiny, '--dataset', notJson]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('broken.json: not valid JSON');
    expect(r3.stderr).toMatch(/line 3/);
    expect(runCount()).toBe(before);
  });

  it('theory --json prints the spec formulas for the Figure 1 preset', () => {
    const r = lab(['theory', '--mu-p', '45', '--mu-q', '55', '--var', '100', '--n', '100', '--sampling', 'uniform', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { w: number[]; wp: number[]; dpDpo: number[]; dpBalanced: number[] };
    expect(out.w).toHaveLength(100);
    // independent check of one entry: w_i = Σ_{j≠i} (q_i p_j − q_j p_i) / ((q_i + q_j)(p_i + p_j))
    const g = (mu: number) => Array.from({ length: 100 }, (_, i) => Math.exp(-((i - mu) ** 2) / 200));
    const norm = (xs: number[]) => xs.map((x) => x / xs.reduce((a, b) => a + b, 0));
    const p = norm(g(45));
    const q = norm(g(55));
    const i = 30;
    let w = 0;
    for (let j = 0; j < 100; j++) if (j !== i) w += (q[i] * p[j] - q[j] * p[i]) / ((q[i] + q[j]) * (p[i] + p[j]));
    expect(out.w[i]).toBeCloseTo(w, 10);
    expect(out.wp[i]).toBeCloseTo(w * p[i], 12);
    expect(out).toEqual(JSON.parse(JSON.stringify(computeTheory({ muP: 45, muQ: 55, variance: 100, n: 100, sampling: 'uniform' }))));
    expect(lab(['theory', '--var', '-1']).stderr).toMatch(/--var/);
    expect(lab(['theory', '--sampling', 'weird']).stderr).toMatch(/--sampling/);
  });

  it('sweep table1 stores the sweep and its runs and prints mean ± std beside the paper', () => {
    const r = lab(['sweep', 'table1', '--seeds', '2', '--steps', '20', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      sweepId: number;
      status: string;
      runIds: number[];
      summary: { cells: { key: { loss: string; mask: number }; n: number; paper?: number; metrics: Record<string, { mean: number; std: number }> }[] };
    };
    expect(out.status).toBe('done');
    expect(out.runIds).toHaveLength(36);
    expect(out.summary.cells).toHaveLength(18);
    const dpo0 = out.summary.cells.find((c) => c.key.loss === 'dpo' && c.key.mask === 0)!;
    expect(dpo0.n).toBe(2);
    expect(dpo0.paper).toBeGreaterThan(0);
    const runs = JSON.parse(lab(['runs', '--json']).stdout) as {
      id: number;
      sweepId: number | null;
      final: { expectedUtility: number } | null;
      loss: string;
      config?: unknown;
    }[];
    const mine = runs.filter((x) => x.sweepId === out.sweepId);
    expect(mine).toHaveLength(36);
    const text = lab(['sweep', 'table1', '--seeds', '1', '--steps', '5']);
    expect(text.stdout).toMatch(/mask\s+dpo\s+nbdpo-asymm/);
    expect(text.stdout).toContain(`(${dpo0.paper!.toFixed(2)})`);
  });

  it('sweep grid runs any grid given as JSON and names a bad grid field', () => {
    const spec = JSON.stringify({ base: { steps: 10, refSteps: 5, K: 4, pairsPerPrompt: 6 }, grid: { loss: ['dpo', 'ipo'], beta: [0.5, 1] }, seeds: 1 });
    const r = lab(['sweep', 'grid', spec, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runIds: number[]; summary: { varying: string[]; cells: unknown[] } };
    expect(out.runIds).toHaveLength(4);
    expect(out.summary.varying.sort()).toEqual(['beta', 'loss']);
    const bad = lab(['sweep', 'grid', JSON.stringify({ grid: { lr: [0.1, -2] } })]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/grid\.lr\[1\]/);
    const unknown = lab(['sweep', 'grid', JSON.stringify({ grid: { lossy: [1] } })]);
    expect(unknown.stderr).toMatch(/grid\.lossy: not a run-config field/);
  });
});
