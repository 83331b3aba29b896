import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { tempDir } from '../unit/tmp';
import { writeTinyModel } from '../support/tiny-models';
import { nativeGemmMissing } from '../../src-main/engine/llm/native-gemm';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const model = tmp.file('tiny-gpt2');

beforeAll(() => {
  writeTinyModel(model, { arch: 'gpt2', seed: 3 });
});

/** The real CLI from source, as `npm run --silent lab -- …` runs it. */
function lab(db: string, args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', db, '--backend', 'wasm', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

const RUN = ['run', 'llm', '--model', model, '--data', HH, '--max-length', '96', '--max-pairs', '40', '--lr', '0.01', '--eval-every', '4', '--seed', '5'];

function series(db: string, runId: number, name: string): Map<number, number> {
  const d = new Database(db, { readonly: true });
  try {
    const rows = d
      .prepare(
        `SELECT m.step AS step, m.value AS value FROM metrics m JOIN metric_names n ON n.id = m.name_id WHERE m.run_id = ? AND n.name = ? ORDER BY m.step`,
      )
      .all(runId, name) as { step: number; value: number }[];
    return new Map(rows.map((r) => [r.step, r.value]));
  } catch {
    // the CLI may not have created the tables yet
    return new Map();
  } finally {
    d.close();
  }
}

function csvSeries(db: string, runId: number, name: string): Map<number, number> {
  const r = lab(db, ['export', '--run', String(runId)]);
  expect(r.code, r.stderr).toBe(0);
  const rows = parse(r.stdout, { columns: true }) as { step: string; name: string; value: string }[];
  return new Map(rows.filter((x) => x.name === name).map((x) => [Number(x.step), Number(x.value)]));
}

function logps(args: string[]): ({ chosen: number; rejected: number } | null)[] {
  const r = lab(tmp.file('scratch.db'), ['logps', ...args, '--data', HH, '--max-length', '96', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { logps: ({ chosen: number; rejected: number } | null)[] }).logps;
}

describe('LLM lab through the CLI (tiny GPT-2, real HH data, worker processes)', () => {
  const db = tmp.file('llm.db');

  it('a DPO run with LoRA raises the chosen-vs-rejected margin; exports reload to the same log-probs', () => {
    const r = lab(db, [...RUN, '--loss', 'dpo', '--steps', '12', '--checkpoint-every', '6', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; status: string; backend: string; final: Record<string, number>; config: Record<string, unknown> };
    expect(out.status).toBe('done');
    expect(out.config.finetune).toBe('lora');
    // LLM runs multiply with OpenBLAS where native/gemm is built, and say so; elsewhere they say why not
    expect(out.backend).toMatch(nativeGemmMissing() === null ? /^wasm \(SIMD, 1 thread\) \+ OpenBLAS sgemm \(\w+\)/ : /native sgemm (not built|off|failed)/);
    const margins = csvSeries(db, out.runId, 'rewards/margins');
    expect(margins.size).toBe(12);
    const first = (margins.get(1)! + margins.get(2)! + margins.get(3)!) / 3;
    const last = (margins.get(10)! + margins.get(11)! + margins.get(12)!) / 3;
    expect(last).toBeGreaterThan(first + 0.05);
    for (const k of ['balance/log10_prob_ratio', 'balance/logp_grad_ratio', 'eval_loss', 'perf/tokens_per_second', 'learning_rate', 'grad_norm'])
      expect(Number.isFinite(out.final[k]), k).toBe(true);

    const merged = tmp.file('export-merged');
    const adapter = tmp.file('export-adapter');
    expect(lab(db, ['export-model', '--run', String(out.runId), '--out', merged]).code).toBe(0);
    expect(lab(db, ['export-model', '--run', String(out.runId), '--out', adapter, '--adapter']).code).toBe(0);
    expect(fs.existsSync(path.join(adapter, 'adapter_config.json'))).toBe(true);
    const cfg = JSON.parse(fs.readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['c_attn'] });

    const viaMerged = logps(['--model', merged]);
    const viaAdapter = logps(['--model', model, '--adapter', adapter]);
    const base = logps(['--model', model]);
    let compared = 0;
    let moved = 0;
    viaMerged.forEach((m, i) => {
      const a = viaAdapter[i];
      if (!m || !a) return expect(a).toBe(m);
      compared++;
      expect(m.chosen).toBeCloseTo(a.chosen, 2);
      expect(m.rejected).toBeCloseTo(a.rejected, 2);
      if (Math.abs(m.chosen - base[i]!.chosen) > 0.01) moved++;
    });
    expect(compared).toBeGreaterThan(20);
    expect(moved).toBeGreaterThan(compared / 2);
    // a second export into a non-empty folder is refused, naming it
    const again = lab(db, ['export-model', '--run', String(out.runId), '--out', merged]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(merged);
  });

  it('a run killed with SIGKILL resumes from its checkpoint and retraces the uninterrupted curve', async () => {
    const args = [...RUN, '--loss', 'bdpo', '--steps', '40', '--checkpoint-every', '3'];
    const whole = tmp.file('whole.db');
    expect(lab(whole, args).code).toBe(0);
    const expected = csvSeries(whole, 1, 'loss');
    expect(expected.size).toBe(40);

    const broken = tmp.file('broken.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', '--db', broken, '--backend', 'wasm', ...args], {
      cwd: ROOT,
      detached: true,
      stdio: 'ignore',
    });
    // kill the CLI and its worker (one process group) once the run is past its second checkpoint, well before its end
    const deadline = Date.now() + 120_000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 150));
      const steps = fs.existsSync(broken) ? series(broken, 1, 'loss') : new Map();
      if (steps.size >= 8) break;
      if (Date.now() > deadline) throw new Error('the run never got to step 8');
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const resumed = lab(broken, ['resume', '--run', '1', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as { status: string }).status).toBe('done');
    const got = csvSeries(broken, 1, 'loss');
    expect([...got.keys()]).toEqual([...expected.keys()]);
    for (const [step, v] of expected) expect(got.get(step), `step ${step}`).toBeCloseTo(v, 4);
    const log = lab(broken, ['runs', '--json']);
    expect(log.code).toBe(0);
  });

  it('bad input: a missing model folder or data file is exit 2 naming it; a model missing a tensor fails the run naming the tensor', () => {
    const db2 = tmp.file('bad.db');
    const noModel = lab(db2, ['run', 'llm', '--model', tmp.file('nope'), '--data', HH, '--steps', '1']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('nope');
    const noData = lab(db2, ['run', 'llm', '--model', model, '--data', tmp.file('missing.jsonl'), '--steps', '1']);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toContain('missing.jsonl');
    const flags = lab(db2, ['run', 'llm', '--model', model, '--data', HH, '--steps', '0x14']);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('--steps');

    // a model whose shard lacks a tensor: the run fails and its error names file and tensor
    const broken = tmp.file('broken-model');
    writeTinyModel(broken, { arch: 'llama', seed: 1, shards: 2 });
    const index = JSON.parse(fs.readFileSync(path.join(broken, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    index.weight_map['model.layers.1.mlp.up_proj.weight'] = 'model-00009-of-00009.safetensors';
    fs.writeFileSync(path.join(broken, 'model.safetensors.index.json'), JSON.stringify(index));
    const r = lab(db2, ['run', 'llm', '--model', broken, '--data', HH, '--steps', '1', '--max-length', '64', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { status: string; error: string };
    expect(out.status).toBe('failed');
    expect(out.error).toContain('model-00009-of-00009.safetensors');
  });
});
