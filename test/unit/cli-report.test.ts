/**
 * lab report table1 in process through main(argv): without sweep ids it runs the Table 1 sweep itself (short runs
 * here) and writes the report; --format md writes the Markdown with every figure as an SVG file and the data as
 * CSV beside it, each one the Markdown links to; given sweep ids it reads those; mistakes in the flags are named
 * before any training starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './cli-main';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = tmp.file('report-cli.db');
const lab = (args: string[]) => runCli(db, args);
const runCount = async () => (JSON.parse((await lab(['runs', '--json'])).stdout) as unknown[]).length;

describe('lab report table1 (in process)', () => {
  let table1Id = 0;

  it('runs the Table 1 sweep itself and writes Markdown with its SVG figures and CSV data beside it', async () => {
    const dir = tmp.file('md');
    fs.mkdirSync(dir);
    const out = path.join(dir, 'repro.md');
    const r = await lab(['report', 'table1', '--seeds', '1', '--steps', '5', '--format', 'md', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('running the Table 1 sweep with 1 seed');
    const res = JSON.parse(r.stdout) as { files: string[]; table1: number; sweeps: { preset: string; runs: number; status: string }[] };
    table1Id = res.table1;
    expect(res.sweeps).toEqual([expect.objectContaining({ preset: 'table1', runs: 18, status: 'done' })]);

    const names = fs.readdirSync(dir).sort();
    expect(names.sort()).toEqual(res.files.map((f) => path.basename(f)).sort());
    const svgs = names.filter((n) => n.endsWith('.svg'));
    // Figure 2 at the three masks, three training-curve charts, Figure 1 in three settings × two samplings
    expect(svgs.filter((n) => n.startsWith('repro-figure2-mask'))).toHaveLength(3);
    expect(svgs.filter((n) => n.startsWith('repro-curves-'))).toHaveLength(3);
    expect(svgs.filter((n) => n.startsWith('repro-figure1-'))).toHaveLength(6);
    for (const n of svgs) expect(fs.readFileSync(path.join(dir, n), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);

    const md = fs.readFileSync(out, 'utf8');
    expect(md).toMatch(/^# Gradient imbalance in DPO: Table 1 reproduction/);
    // every file beside it is linked from the Markdown, by a relative name
    for (const n of names.filter((x) => x !== 'repro.md')) expect(md).toContain(`(${n})`);
    expect(md).toMatch(/\| mask \| dpo \| nbdpo-asymm \|/);
    const csv = fs.readFileSync(path.join(dir, 'repro-table1.csv'), 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('metric,mask,loss,n,mean,std,ci95_low,ci95_high,paper');
    expect(csv).toHaveLength(1 + 2 * 18);
  });

  it('writes the HTML report of a sweep given by id, its figures inline', async () => {
    const out = tmp.file('given.html');
    const before = await runCount();
    const r = await lab(['report', 'table1', '--table1', String(table1Id), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await runCount()).toBe(before); // nothing trained
    const html = fs.readFileSync(out, 'utf8');
    expect(html.match(/<figure /g)).toHaveLength(12);
    expect(html.match(/<svg /g)).toHaveLength(12);
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
  });

  it('names a bad flag before training anything', async () => {
    const before = await runCount();
    const seeds = await lab(['report', 'table1', '--table1', String(table1Id), '--seeds', '2', '--out', tmp.file('x.html')]);
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toMatch(/--seeds: applies only to sweeps this command runs/);
    const format = await lab(['report', 'table1', '--format', 'pdf', '--out', tmp.file('x.pdf')]);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format: expected html or md, got "pdf"/);
    const folder = await lab(['report', 'table1', '--out', tmp.file('no/such/folder/r.html')]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/--out: folder .*no\/such\/folder does not exist/);
    const notT1 = await lab(['report', 'table1', '--sensitivity', String(table1Id), '--out', tmp.file('y.html')]);
    expect(notT1.code).toBe(2);
    expect(notT1.stderr).toMatch(new RegExp(`sweep ${table1Id} .* is not a sensitivity sweep`));
    expect(await runCount()).toBe(before);
  });
});
