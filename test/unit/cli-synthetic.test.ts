/**
 * The synthetic lab's commands beyond a plain run (datasets, theory, sweeps), in process through main(argv).
 * Sizes are small: what is checked is what the commands print and store, not the training itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { computeTheory } from '../../src-main/engine/synthetic/theory';
import { runCli } from './cli-main';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('synthetic-cli.db');
const lab = (args: string[]) => runCli(db, args);

type RunRow = { id: number; sweepId: number | null; loss: string; config: { mask?: number }; final: { expectedUtility: number } | null };
const listRuns = async () => JSON.parse((await lab(['runs', '--json'])).stdout) as RunRow[];
const tiny = ['--steps', '30', '--ref-steps', '10', '--k', '5', '--pairs-per-prompt', '8', '--eval-every', '10'];

describe('synthetic lab from the CLI (in process)', () => {
  it('exports the dataset a run used; training on that file reproduces the run exactly', async () => {
    const file = tmp.file('ds.json');
    const a = await lab(['run', 'synthetic', ...tiny, '--seed', '3', '--mask', '0.2', '--export-dataset', file, '--json']);
    expect(a.code, a.stderr).toBe(0);
    const ds = JSON.parse(fs.readFileSync(file, 'utf8')) as { K: number; alpha: number; mask: number[][]; pairs: number[][] };
    expect(ds).toMatchObject({ K: 5, alpha: 0.6 });
    expect(ds.mask.length).toBeGreaterThan(0);
    expect(ds.pairs.length).toBe(5 * 8);
    const b = await lab(['run', 'synthetic', ...tiny, '--seed', '3', '--mask', '0.2', '--dataset', file, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const fa = JSON.parse(a.stdout) as { final: Record<string, number>; probs: number[][] };
    const fb = JSON.parse(b.stdout) as { final: Record<string, number>; probs: number[][] };
    expect(fb.final).toEqual(fa.final);
    expect(fb.probs).toEqual(fa.probs);
  });

  it('refuses a dataset that disagrees with the config or is malformed, naming the field, and saves no run', async () => {
    const before = (await listRuns()).length;
    const good = JSON.parse(fs.readFileSync(tmp.file('ds.json'), 'utf8')) as { K: number; pairs: number[][] };
    const wrongK = tmp.file('wrongK.json');
    fs.writeFileSync(wrongK, JSON.stringify({ ...good, K: 7 }));
    const r1 = await lab(['run', 'synthetic', ...tiny, '--dataset', wrongK]);
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
    const r2 = await lab(['run', 'synthetic', ...tiny, '--dataset', badPair]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/pairs\[1\]\[1\]/);
    const notJson = tmp.file('broken.json');
    fs.writeFileSync(notJson, '{"K": 5,\n "pairs": [[0,1,2],\n oops]}');
    const r3 = await lab(['run', 'synthetic', ...tiny, '--dataset', notJson]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('broken.json: not valid JSON');
    expect(r3.stderr).toMatch(/line 3/);
    expect((await listRuns()).length).toBe(before);
  });

  it('theory --json prints the spec formulas for the Figure 1 preset', async () => {
    const r = await lab(['theory', '--mu-p', '45', '--mu-q', '55', '--var', '100', '--n', '100', '--sampling', 'uniform', '--json']);
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
    const text = await lab(['theory', '--mu-p', '45', '--mu-q', '55']);
    expect(text.stdout).toMatch(/DPO w_i:\s+max at i=\d+, min at i=\d+/);
    for (const bad of [
      ['--var', '-1'],
      ['--sampling', 'weird'],
    ]) {
      const r2 = await lab(['theory', ...bad]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain(bad[0]);
    }
  });

  it('sweep table1 stores the sweep and its runs and prints mean ± std beside the paper', async () => {
    const r = await lab(['sweep', 'table1', '--seeds', '1', '--steps', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      sweepId: number;
      status: string;
      runIds: number[];
      summary: { cells: { key: { loss: string; mask: number }; n: number; paper?: number; metrics: Record<string, { mean: number; std: number }> }[] };
    };
    expect(out.status).toBe('done');
    // six losses × three masks × one seed
    expect(out.runIds).toHaveLength(18);
    expect(out.summary.cells).toHaveLength(18);
    const dpo0 = out.summary.cells.find((c) => c.key.loss === 'dpo' && c.key.mask === 0)!;
    expect(dpo0.n).toBe(1);
    expect(dpo0.paper).toBeGreaterThan(0);
    const mine = (await listRuns()).filter((x) => x.sweepId === out.sweepId);
    expect(mine.map((x) => x.id).sort((a, b) => a - b)).toEqual([...out.runIds].sort((a, b) => a - b));
    // The cell's mean is the mean of its runs' stored final values.
    const dpo0Run = mine.find((x) => x.loss === 'dpo' && x.config.mask === 0)!;
    expect(dpo0.metrics.expectedUtility.mean).toBeCloseTo(dpo0Run.final!.expectedUtility, 10);
    // Text mode: one table, losses as columns, the paper's number in brackets next to ours.
    const text = await lab(['sweep', 'table1', '--seeds', '1', '--steps', '2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/mask\s+dpo\s+nbdpo-asymm/);
    expect(text.stdout).toContain(`(${dpo0.paper!.toFixed(2)})`);
  });

  it('sweep grid runs any grid given as JSON and names a bad grid field', async () => {
    const spec = JSON.stringify({ base: { steps: 10, refSteps: 5, K: 4, pairsPerPrompt: 6 }, grid: { loss: ['dpo', 'ipo'], beta: [0.5, 1] }, seeds: 1 });
    const r = await lab(['sweep', 'grid', spec, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runIds: number[]; summary: { varying: string[]; cells: unknown[] } };
    expect(out.runIds).toHaveLength(4);
    expect(out.summary.varying.sort()).toEqual(['beta', 'loss']);
    expect(out.summary.cells).toHaveLength(4);
    const file = tmp.file('grid.json');
    fs.writeFileSync(file, JSON.stringify({ base: { steps: 5, refSteps: 2, K: 4, pairsPerPrompt: 4 }, grid: { beta: [0.5, 2] }, seeds: 1 }));
    const fromFile = await lab(['sweep', 'grid', `@${file}`]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toMatch(/beta=0.5\s+n=1/);
    const bad = await lab(['sweep', 'grid', JSON.stringify({ grid: { lr: [0.1, -2] } })]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/grid\.lr\[1\]/);
    const unknown = await lab(['sweep', 'grid', JSON.stringify({ grid: { lossy: [1] } })]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/grid\.lossy: not a run-config field/);
  });
});
