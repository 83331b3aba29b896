/**
 * Benchmark sessions end to end through the lab's commands, with real worker processes and a real SQLite file, on
 * stage sizes that run every stage of safety-tiny in seconds: benches:start → each grid row stored as a finished
 * evaluation of the session (evals:list by benchId, the CSV's bench and oracle columns) → benches:get done with the
 * grid; a running session and a queued one cancelled; a session whose work folder goes away marked failed with
 * the error; a non-empty work folder refused before any work; the CLI's `bench safety-tiny --json` and
 * `evals --bench` on the same path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { createLab, type Lab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import type { LabEvent } from '../../src-shared/events';
import type { BenchRecord } from '../../src-shared/bench';
import type { EvalRecord } from '../../src-shared/eval';
import { tempDir } from '../unit/tmp';
import { runCli } from '../unit/cli-main';
import { heard, invoke } from '../support/lab-service';
import { TINY_BENCH_BUDGET as TINY } from '../support/bench-budget';

const tmp = tempDir('dpo-lab-bench-sessions-');
afterAll(() => tmp.cleanup());

/** Resolves at the first event that matches. */
const next = (lab: Lab, match: (e: LabEvent) => boolean) =>
  new Promise<LabEvent>((resolve) => {
    const off = lab.service.onEvent((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });

const openLab = (db: string) => createLab({ dbFile: tmp.file(db), mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });

describe('benchmark sessions', () => {
  it('benches:start runs the pipeline in a worker; each row is stored as an evaluation of the session; benches:get ends done with the grid', async () => {
    const lab = openLab('done.db');
    const events = heard(lab);
    try {
      const { benchId } = await invoke<{ benchId: number }>(lab, 'benches:start', { seeds: 1, losses: ['dpo', 'bdpo'], budget: TINY });
      expect((await invoke<BenchRecord>(lab, 'benches:get', { id: benchId })).status).toMatch(/queued|running/);
      await lab.benches.settled(benchId);

      const b = await invoke<BenchRecord>(lab, 'benches:get', { id: benchId });
      expect(b, b.error ?? '').toMatchObject({ status: 'done', error: null, name: 'safety-tiny' });
      expect(b.settings).toMatchObject({ seeds: 1, losses: ['dpo', 'bdpo'], quick: false, budget: TINY });
      expect(b.result!.rows.map((r) => [r.loss, r.seed])).toEqual([
        ['sft', 1],
        ['dpo', 1],
        ['bdpo', 1],
      ]);
      expect(b.result!.seconds).toBeGreaterThan(0);
      expect(b.startedAt).not.toBeNull();
      expect(b.finishedAt).toBeGreaterThanOrEqual(b.startedAt!);
      expect(b.progress).toMatchObject({ stage: 'eval', what: 'bdpo', seed: 1, seeds: 1 });
      expect(b.log.at(-1)).toMatch(/^done in \d+ s: 3 rows$/);
      expect(b.log.some((l) => /reward model, held-out accuracy/.test(l))).toBe(true);
      expect(fs.existsSync(path.join(b.workDir, 'seed-1', 'policies', 'bdpo', 'model.safetensors'))).toBe(true);
      expect(path.dirname(path.dirname(b.workDir))).toBe(path.dirname(tmp.file('done.db')));

      // the grid's rows are evaluations of the session, with the same numbers as the grid
      const evals = await invoke<EvalRecord[]>(lab, 'evals:list', { benchId });
      expect(evals.map((e) => e.loss).sort()).toEqual(['bdpo', 'dpo', 'sft']);
      for (const row of b.result!.rows) {
        const e = evals.find((x) => x.loss === row.loss)!;
        expect(e).toMatchObject({ status: 'done', benchId, runId: null, name: `safety-tiny #${benchId} · seed 1` });
        const s = e.summary!;
        expect(s.n).toBe(TINY.evalPrompts);
        expect(s.help!.mean).toBeCloseTo(row.help, 12);
        expect(s.harm!.mean).toBeCloseTo(row.harm, 12);
        expect(s.sr!.mean).toBeCloseTo(row.sr, 12);
        expect(s.oracleHelp!.mean).toBeCloseTo(row.oracleHelp, 12);
        expect(s.oracleHarm!.mean).toBeCloseTo(row.oracleHarm, 12);
        expect(s.oracleSr!.mean).toBeCloseTo(row.oracleSr, 12);
        // win rate is against the SFT model's responses: the SFT row has none
        expect(s.winRate === null).toBe(row.loss === 'sft');
        expect(e.reference).toBe(row.loss === 'sft' ? null : path.join(b.workDir, 'seed-1', 'sft'));
        const responses = await invoke<{ total: number; rows: { response: string }[] }>(lab, 'evals:responses', { id: e.id });
        expect(responses.total).toBe(TINY.evalPrompts);
      }
      // the filter narrows; without it every evaluation is listed
      await expect(invoke<EvalRecord[]>(lab, 'evals:list', { benchId: benchId + 1 })).rejects.toThrow(`benchmark session ${benchId + 1} does not exist`);
      expect((await invoke<EvalRecord[]>(lab, 'evals:list', {})).length).toBe(3);

      // the CSV carries the session and the oracle's numbers
      const { csv } = await invoke<{ csv: string }>(lab, 'evals:exportCsv', { ids: evals.map((e) => e.id) });
      const rows = parse(csv, { columns: true }) as Record<string, string>[];
      const dpo = rows.find((r) => r.loss === 'dpo')!;
      const dpoRow = b.result!.rows.find((r) => r.loss === 'dpo')!;
      expect(dpo.bench_id).toBe(String(benchId));
      expect(Number(dpo.oracle_sr)).toBeCloseTo(dpoRow.oracleSr, 10);
      expect(Number(dpo.oracle_help)).toBeCloseTo(dpoRow.oracleHelp, 10);

      // heard live: running, each stage, each row as an evaluation, then done
      const mine = events.filter((e) => 'benchId' in e && e.benchId === benchId);
      const statuses = mine.flatMap((e) => (e.type === 'bench:status' ? [e.status] : []));
      expect(statuses).toEqual(['queued', 'running', 'done']);
      const stages = mine.flatMap((e) => (e.type === 'bench:progress' ? [`${e.progress.stage}${e.progress.what ? ':' + e.progress.what : ''}`] : []));
      expect(stages).toEqual(['sft', 'scorers:reward', 'scorers:cost', 'eval:sft', 'loss:dpo', 'eval:dpo', 'loss:bdpo', 'eval:bdpo']);
      const rowEvents = events.filter((e) => e.type === 'eval:status' && e.status === 'done').map((e) => (e as { evalId: number }).evalId);
      expect(rowEvents.sort()).toEqual(evals.map((e) => e.id).sort());
      expect(await invoke<BenchRecord[]>(lab, 'benches:list', {})).toHaveLength(1);
    } finally {
      lab.close();
    }
  }, 240_000);

  it('cancels a running session (between or inside stages) and a queued one; neither leaves rows', async () => {
    const lab = openLab('cancel.db');
    try {
      // SFT long enough that the cancel lands inside it
      const inSft = next(lab, (e) => e.type === 'bench:progress' && e.progress.stage === 'sft');
      const { benchId: first } = await invoke<{ benchId: number }>(lab, 'benches:start', { losses: ['dpo'], budget: { ...TINY, sftSteps: 1_000_000 } });
      const { benchId: second } = await invoke<{ benchId: number }>(lab, 'benches:start', { losses: ['dpo'], budget: TINY });
      await inSft;
      expect(lab.store.benches.get(first)!.status).toBe('running');
      expect(lab.store.benches.get(second)!.status).toBe('queued');

      expect(await invoke(lab, 'benches:cancel', { id: second })).toEqual({ ok: true });
      expect(lab.store.benches.get(second)).toMatchObject({ status: 'cancelled', startedAt: null, error: null });

      expect(await invoke(lab, 'benches:cancel', { id: first })).toEqual({ ok: true });
      await lab.benches.settled(first);
      const b = await invoke<BenchRecord>(lab, 'benches:get', { id: first });
      expect(b).toMatchObject({ status: 'cancelled', error: null, result: null, progress: { stage: 'sft' } });
      expect(b.log.at(-1)).toBe('cancelled');
      expect(await invoke<EvalRecord[]>(lab, 'evals:list', {})).toEqual([]);
      // a session that has ended: nothing to cancel
      expect(await invoke(lab, 'benches:cancel', { id: first })).toEqual({ ok: false });
    } finally {
      lab.close();
    }
  }, 180_000);

  it('a session that fails is marked failed with the error, heard with it, and leaves no rows', async () => {
    const lab = openLab('fail.db');
    const events = heard(lab);
    try {
      const workDir = tmp.file('fail-work');
      const { benchId } = await invoke<{ benchId: number }>(lab, 'benches:start', { losses: ['dpo'], budget: TINY, workDir });
      // the work folder is replaced by a file before the worker (a new process) gets to it
      fs.rmSync(workDir, { recursive: true });
      fs.writeFileSync(workDir, 'not a folder');
      await lab.benches.settled(benchId);
      const b = await invoke<BenchRecord>(lab, 'benches:get', { id: benchId });
      expect(b.status).toBe('failed');
      expect(b.error).toMatch(/ENOTDIR|ENOENT|EEXIST/);
      expect(b.error).toContain(workDir);
      expect(b.result).toBeNull();
      expect(b.log.at(-1)).toBe(`failed: ${b.error}`);
      expect(events.find((e) => e.type === 'bench:status' && e.benchId === benchId && e.status === 'failed')).toMatchObject({ error: b.error });
      expect(await invoke<EvalRecord[]>(lab, 'evals:list', { benchId })).toEqual([]);
    } finally {
      lab.close();
    }
  }, 120_000);

  it('lab bench safety-tiny --json goes through a session; lab evals --bench lists its rows', async () => {
    const db = tmp.file('cli.db');
    const r = await runCli(db, ['bench', 'safety-tiny', '--losses', 'dpo', '--budget', JSON.stringify(TINY), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { seconds: number; benchId: number; rows: { loss: string; seed: number; oracleSr: number }[] };
    expect(out.rows.map((x) => [x.loss, x.seed])).toEqual([
      ['sft', 1],
      ['dpo', 1],
    ]);
    expect(out.seconds).toBeGreaterThan(0);
    // progress lines go to stderr, the JSON alone to stdout
    expect(r.stderr).toContain(`safety-tiny: benchmark session ${out.benchId}`);
    expect(r.stderr).toContain('seed 1/1 · loss 1 of 1 (dpo)');

    const listed = await runCli(db, ['evals', '--bench', String(out.benchId), '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const evals = JSON.parse(listed.stdout) as { loss: string; benchId: number; oracleSr: { mean: number } }[];
    expect(evals.map((e) => e.loss).sort()).toEqual(['dpo', 'sft']);
    for (const e of evals) {
      expect(e.benchId).toBe(out.benchId);
      expect(e.oracleSr.mean).toBeCloseTo(out.rows.find((x) => x.loss === e.loss)!.oracleSr, 12);
    }
    const missing = await runCli(db, ['evals', '--bench', String(out.benchId + 1)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no benchmark session with id ${out.benchId + 1}`);
    const bad = await runCli(db, ['evals', '--bench', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--bench: expected a whole number ≥ 1, got "x"');
  }, 180_000);

  it('refuses a work folder that is not empty, naming the field, before any work', async () => {
    const lab = openLab('refuse.db');
    try {
      const dir = tmp.file('full');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');
      const res = await lab.service.invoke('benches:start', { losses: ['dpo'], workDir: dir });
      expect(res.ok).toBe(false);
      if (res.ok) return;
      expect(res.error.code).toBe('invalid_input');
      expect(res.error.issues?.[0]).toMatchObject({ path: 'workDir' });
      expect(res.error.message).toContain(`${dir} is not an empty folder`);
      expect(fs.readFileSync(path.join(dir, 'keep.txt'), 'utf8')).toBe('mine');
      expect(await invoke<BenchRecord[]>(lab, 'benches:list', {})).toEqual([]);
      const bad = await lab.service.invoke('benches:start', { losses: ['nope'] });
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.issues?.[0].path).toBe('losses[0]');
    } finally {
      lab.close();
    }
  });
});
