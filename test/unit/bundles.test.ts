/**
 * Experiment bundles through the CLI in process: a run bundled from one lab and imported into a fresh database
 * keeps every metric row; a second import is recognised; a damaged file is named; a rerun reproduces exactly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import { runCli } from './cli-main';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const dbA = tmp.file('a.db');
const dbB = tmp.file('b.db');
const tiny = ['--steps', '30', '--ref-steps', '10', '--k', '5', '--pairs-per-prompt', '8', '--eval-every', '10'];

function rows(db: string, runId: number): [number, string, number | null][] {
  const d = new Database(db, { readonly: true });
  try {
    return d
      .prepare(`SELECT m.step, n.name, m.value FROM metrics m JOIN metric_names n ON n.id = m.name_id WHERE m.run_id = ? ORDER BY m.step, n.name`)
      .raw()
      .all(runId) as [number, string, number | null][];
  } finally {
    d.close();
  }
}

describe('experiment bundles (in process)', () => {
  const file = tmp.file('run.dpolab.json.gz');
  let source = 0;
  let imported = 0;

  it('round trip: run → bundle → import into a fresh database keeps every metric row and the final metrics', async () => {
    const r = await runCli(dbA, ['run', 'synthetic', ...tiny, '--seed', '4', '--mask', '0.2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    source = (JSON.parse(r.stdout) as { runId: number }).runId;
    const b = await runCli(dbA, ['bundle', '--run', String(source), '--out', file, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const i = await runCli(dbB, ['import', file, '--json']);
    expect(i.code, i.stderr).toBe(0);
    const out = JSON.parse(i.stdout) as { duplicate: boolean; runIds: number[] };
    expect(out.duplicate).toBe(false);
    imported = out.runIds[0];
    expect(rows(dbB, imported)).toEqual(rows(dbA, source));
    expect(rows(dbB, imported).length).toBeGreaterThan(100);
    // one at a time: runCli captures this process's stdout
    const a = await runCli(dbA, ['runs', '--json']);
    const c = await runCli(dbB, ['runs', '--json']);
    const fa = (JSON.parse(a.stdout) as { final: unknown }[])[0].final;
    const fb = (JSON.parse(c.stdout) as { final: unknown }[])[0].final;
    expect(fb).toEqual(fa);
  });

  it('importing the same file twice is recognised: exit 0, the earlier ids, nothing added', async () => {
    const i = await runCli(dbB, ['import', file, '--json']);
    expect(i.code, i.stderr).toBe(0);
    const out = JSON.parse(i.stdout) as { duplicate: boolean; runIds: number[] };
    expect(out).toMatchObject({ duplicate: true, runIds: [imported] });
    expect(JSON.parse((await runCli(dbB, ['runs', '--json'])).stdout)).toHaveLength(1);
  });

  it('a damaged or edited file is refused with a message naming the file and the field', async () => {
    const bad = tmp.file('bad.gz');
    fs.writeFileSync(bad, Buffer.from('not a bundle'));
    const r1 = await runCli(dbB, ['import', bad]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/bad\.gz: .*not a gzip/);
    const obj = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString()) as { version: number; content: { runs: { status: string }[] } };
    const edited = tmp.file('edited.gz');
    obj.content.runs[0].status = 'running';
    fs.writeFileSync(edited, zlib.gzipSync(JSON.stringify(obj)));
    const r2 = await runCli(dbB, ['import', edited]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/edited\.gz: contentHash/);
    const newer = tmp.file('newer.gz');
    fs.writeFileSync(newer, zlib.gzipSync(JSON.stringify({ ...obj, version: 99 })));
    const r3 = await runCli(dbB, ['import', newer]);
    expect(r3.stderr).toMatch(/newer\.gz: version: bundle version 99 is newer/);
  });

  it('rerun of the imported synthetic run reproduces its final metrics exactly (same backend)', async () => {
    const r = await runCli(dbB, ['rerun', '--run', String(imported), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; final: Record<string, number>; comparison: { exact: boolean; summary: string } };
    expect(out.runId).not.toBe(imported);
    expect(out.comparison.exact).toBe(true);
    expect(out.comparison.summary).toMatch(/reproduced exactly/);
  });
});
