/**
 * `lab export-trl` / `lab import-trl` (issue 12): the exported dpo_lab_losses.py against the lab's own losses (values
 * and autograd gradients, with Debian's python3-torch), the exported data loaders against the lab's, train.py and the
 * configs carrying the run's values, and trainer_state.json imports into a real SQLite store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src-main/engine/tf';
import { inspectLosses } from '../../src-main/engine/losses/inspect';
import { LOSSES } from '../../src-main/engine/losses/registry';
import { lossAndLogpGrads, standardMetrics } from '../../src-main/engine/losses/diagnostics';
import { loadPreferenceFile } from '../../src-main/engine/llm/data';
import { LOSS_NAMES } from '@shared/losses';
import { BUILTIN_CDPO_LABEL_SMOOTHING, BUILTIN_FORMULAS, parseFormulaOrThrow } from '@shared/formula';
import { formulaPerPair } from '../../src-main/engine/losses/formula';
import { LlmConfigSchema } from '@shared/llm-config';
import { labDataSplit, runCustomLoss, writeTrlJob } from '../../src-main/trl/export-job';
import { lossesPy } from '../../src-main/trl/losses-py';
import { TRL_COMMIT, TRL_VERSION } from '../../src-main/trl/train-py';
import { importTrlJob, parseTrainerState } from '../../src-main/trl/import-job';
import { LabStore } from '../../src-main/store';
import { writeTinyModel } from '../support/tiny-models';
import { tempDir } from './tmp';
import { runCli } from './cli-main';

const tmp = tempDir('dpo-lab-trl-');
afterAll(() => tmp.cleanup());

// Debian's python3-torch lives in /usr/lib/python3/dist-packages, which a python3 earlier on PATH (pyenv, a venv)
// does not see: use the first interpreter that imports torch, else the first that runs at all.
const CANDIDATES = [...new Set([process.env.DPO_LAB_PYTHON, 'python3', '/usr/bin/python3'].filter((x): x is string => !!x))];
const runs = (exe: string, args: string[]) => spawnSync(exe, args, { encoding: 'utf8', timeout: 120_000 }).status === 0;
const torchPython = CANDIDATES.find((exe) => runs(exe, ['-c', 'import torch']));
const anyPython = torchPython ?? CANDIDATES.find((exe) => runs(exe, ['--version']));
const hasPython = anyPython !== undefined;
const hasTorch = torchPython !== undefined;
const python = (args: string[], cwd?: string) => spawnSync(anyPython ?? 'python3', args, { encoding: 'utf8', cwd, timeout: 120_000 });
if (!hasTorch)
  console.warn(
    `trl-export: the dpo_lab_losses.py checks are SKIPPED: ${hasPython ? `no torch in ${CANDIDATES.join(', ')}` : 'no python3'} (Debian: apt-get install python3-torch)`,
  );

/** Runs a Python snippet with `dir` on sys.path and parses the last line it prints as JSON. */
function pyJson(dir: string, code: string): unknown {
  const file = path.join(dir, `snippet-${Math.random().toString(36).slice(2)}.py`);
  fs.writeFileSync(file, `import json, sys\nsys.path.insert(0, ${JSON.stringify(dir)})\n${code}\n`);
  const r = python([file], dir);
  if (r.status !== 0) throw new Error(`python3 ${file} failed (${r.status}):\n${r.stderr}`);
  // the JSON is the last line; what the script printed before it (train.py's progress) is not part of it
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as unknown;
}

// Log-probs that are exact in float32 (multiples of 1/8), chosen so λ hits both clip ends and the inside for each
// nbDPO form (clip 0.5: asymmetric λ−1 ∈ [0, 0.5], symmetric ∈ [−1/3, 0.5]), hinge sees pairs on both sides of
// its margin (never on the kink), and bdpo's λw varies.
const PAIRS = {
  logp_w: [-1, -2, -3, -1.25, -4, -0.5, -6],
  logp_l: [-2, -1.75, -2, -1.5, -7, -8, -6.125],
  ref_w: [-1.5, -2, -2.5, -1.5, -5, -1, -5.5],
  ref_l: [-1, -2, -2.5, -1.25, -5, -7, -6],
};
const HYPERS = [
  { beta: 0.5, clip: 0.5, label_smoothing: 0.1 },
  { beta: 2, clip: 1.5, label_smoothing: 0 },
];

type CustomLosses = Parameters<typeof writeTrlJob>[0]['customLosses'];

function writeJob(name: string, config: Record<string, unknown>, split: Parameters<typeof writeTrlJob>[0]['split'] = null, customLosses?: CustomLosses) {
  const out = tmp.file(name);
  const parsed = LlmConfigSchema.parse(config);
  return { out, config: parsed, result: writeTrlJob({ runId: 7, config: parsed, out, split, customLosses }) };
}

// Custom formulas for the export: sg, named sub-expressions (one a plain number), every function, number-only parts
// folded in Python, a power of a tensor and of a number. Kinks (max, clip) are away from PAIRS for both HYPERS.
const CUSTOM_FORMULAS = [
  {
    name: 'soft-weighted',
    formula: 'h = (logp_w - ref_w) - (logp_l - ref_l)\nw = sg(sigmoid(-beta * h))\n-w * logsigmoid(beta * h) + 0.5 * softplus(ref_l - logp_l)',
  },
  { name: 'scaled chosen grad', formula: 'z = logp_w - sg(logp_w)  # value 0, gradient 1\n-logsigmoid(beta * (3 * z + (logp_w - ref_w) - (logp_l - ref_l)))' },
  {
    name: 'kitchen sink',
    formula:
      'd = clip(logp_w - logp_l, -clip, clip)\nk = 2 ^ beta / (1 + clip)\nmax(0, 1 - beta * d) + 0.1 * abs(logp_l - ref_l)^1.5 + k * exp(logp_w - ref_w) - log(1 + exp(logp_l)) + min(logp_w, sg(logp_l))',
  },
  { name: 'constant-heavy', formula: 'c = exp(-1) + log(2)\nc * (logp_w - logp_l - 1)^2' },
];

describe.skipIf(!hasTorch)('dpo_lab_losses.py against the lab (python3-torch)', () => {
  const job = writeJob('losses-job', { model: '/m', data: '/d.jsonl' });

  it.each(HYPERS)('every registry loss: per-pair values and autograd gradients agree to 1e-6 (%o)', (h) => {
    const lab = inspectLosses({ ...PAIRS, ...h, losses: [...LOSS_NAMES] });
    const py = pyJson(
      job.out,
      `import torch
from dpo_lab_losses import LOSS_NAMES, dpo_lab_loss
p = ${JSON.stringify({ ...PAIRS, ...h })}
out = {}
for name in LOSS_NAMES:
    t = lambda k: torch.tensor(p[k], dtype=torch.float32)
    lw, ll = t("logp_w").requires_grad_(True), t("logp_l").requires_grad_(True)
    loss = dpo_lab_loss(name, lw, ll, t("ref_w"), t("ref_l"), p["beta"], p["clip"], p["label_smoothing"])
    loss.sum().backward()
    out[name] = {"loss": loss.tolist(), "grad_w": lw.grad.tolist(), "grad_l": ll.grad.tolist()}
print(json.dumps(out))`,
    ) as Record<string, Record<'loss' | 'grad_w' | 'grad_l', number[]>>;
    expect(Object.keys(py).sort()).toEqual([...LOSS_NAMES].sort());
    for (const name of LOSS_NAMES)
      for (const field of ['loss', 'grad_w', 'grad_l'] as const)
        lab[name][field].forEach((v, i) => {
          const got = py[name][field][i];
          expect(Math.abs(got - v), `${name} ${field}[${i}]: torch ${got}, lab ${v}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)));
        });
    // the stop-gradients matter: nbDPO's value is DPO's, its chosen gradient is not
    expect(py['nbdpo-asymm'].loss).toEqual(py.dpo.loss);
    expect(py['nbdpo-asymm'].grad_w[0]).not.toBeCloseTo(py.dpo.grad_w[0], 6);
  });

  it.each(HYPERS)('custom formulas: torch written from the syntax tree equals the lab (tfjs formulaPerPair), values and gradients to 1e-6 (%o)', (h) => {
    const customJob = writeJob(`custom-job-${h.beta}`, { model: '/m', data: '/d.jsonl' }, null, CUSTOM_FORMULAS);
    const py = pyJson(
      customJob.out,
      `import torch
from dpo_lab_losses import CUSTOM_LOSS_NAMES, dpo_lab_loss
p = ${JSON.stringify({ ...PAIRS, ...h })}
out = {"names": list(CUSTOM_LOSS_NAMES)}
for name in CUSTOM_LOSS_NAMES:
    t = lambda k: torch.tensor(p[k], dtype=torch.float32)
    lw, ll = t("logp_w").requires_grad_(True), t("logp_l").requires_grad_(True)
    loss = dpo_lab_loss(name, lw, ll, t("ref_w"), t("ref_l"), p["beta"], p["clip"])
    loss.sum().backward()
    out[name] = {"loss": loss.tolist(), "grad_w": lw.grad.tolist(), "grad_l": ll.grad.tolist()}
print(json.dumps(out))`,
    ) as { names: string[] } & Record<string, Record<'loss' | 'grad_w' | 'grad_l', number[]>>;
    expect(py.names).toEqual(CUSTOM_FORMULAS.map((c) => c.name));
    const refW = tf.tensor1d(PAIRS.ref_w);
    const refL = tf.tensor1d(PAIRS.ref_l);
    for (const { name, formula } of CUSTOM_FORMULAS) {
      const f = parseFormulaOrThrow(formula);
      const hyper = { beta: h.beta, clip: h.clip, labelSmoothing: 0 };
      const lossOf = (lw: tf.Tensor, ll: tf.Tensor) => formulaPerPair(f, { lw, ll, refW, refL }, hyper);
      const loss = lossOf(tf.tensor1d(PAIRS.logp_w), tf.tensor1d(PAIRS.logp_l));
      const [gw, gl] = tf.grads((lw: tf.Tensor, ll: tf.Tensor) => lossOf(lw, ll).sum())([tf.tensor1d(PAIRS.logp_w), tf.tensor1d(PAIRS.logp_l)]);
      const lab = { loss: Array.from(loss.dataSync()), grad_w: Array.from(gw.dataSync()), grad_l: Array.from(gl.dataSync()) };
      for (const field of ['loss', 'grad_w', 'grad_l'] as const)
        lab[field].forEach((v, i) => {
          const got = py[name][field][i];
          expect(Number.isFinite(v), `${name} ${field}[${i}] is finite in the lab`).toBe(true);
          expect(Math.abs(got - v), `${name} ${field}[${i}]: torch ${got}, lab ${v}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)));
        });
      tf.dispose([loss, gw, gl]);
    }
    // sg matters: 'scaled chosen grad' has DPO's value and 4x its chosen gradient
    const dpo = inspectLosses({ ...PAIRS, ...h, losses: ['dpo'] }).dpo;
    py['scaled chosen grad'].loss.forEach((v, i) => expect(v).toBeCloseTo(dpo.loss[i], 5));
    py['scaled chosen grad'].grad_w.forEach((v, i) => expect(v).toBeCloseTo(4 * dpo.grad_w[i], 5));
    tf.dispose([refW, refL]);
  });

  it.each(HYPERS)('the nine built-in losses exported as formulas equal the hand-written torch losses (%o)', (h) => {
    const asFormulas = LOSS_NAMES.map((n) => ({ name: `formula:${n}`, formula: BUILTIN_FORMULAS[n] }));
    const builtinJob = writeJob(`builtin-formulas-${h.beta}`, { model: '/m', data: '/d.jsonl' }, null, asFormulas);
    const py = pyJson(
      builtinJob.out,
      `import torch
from dpo_lab_losses import LOSS_NAMES, dpo_lab_loss
p = ${JSON.stringify({ ...PAIRS, ...h })}
out = {}
for name in LOSS_NAMES:
    eps = ${BUILTIN_CDPO_LABEL_SMOOTHING} if name == "cdpo" else 0.0  # the formula's own ε
    got = []
    for which in (name, "formula:" + name):
        t = lambda k: torch.tensor(p[k], dtype=torch.float64)
        lw, ll = t("logp_w").requires_grad_(True), t("logp_l").requires_grad_(True)
        loss = dpo_lab_loss(which, lw, ll, t("ref_w"), t("ref_l"), p["beta"], p["clip"], eps)
        loss.sum().backward()
        got.append(torch.stack([loss.detach(), lw.grad, ll.grad]))
    out[name] = (got[0] - got[1]).abs().max().item()
print(json.dumps(out))`,
    ) as Record<string, number>;
    expect(Object.keys(py).sort()).toEqual([...LOSS_NAMES].sort());
    for (const name of LOSS_NAMES) expect(py[name], name).toBeLessThanOrEqual(1e-12);
  });

  it("lab_metrics gives the lab's balance diagnostics for each loss", () => {
    const h = HYPERS[0];
    const py = pyJson(
      job.out,
      `import torch
from dpo_lab_losses import LOSS_NAMES, lab_metrics
p = ${JSON.stringify({ ...PAIRS, ...h })}
t = lambda k: torch.tensor(p[k], dtype=torch.float32)
print(json.dumps({n: {k: v.item() for k, v in lab_metrics(n, t("logp_w"), t("logp_l"), t("ref_w"), t("ref_l"), p["beta"], p["clip"], p["label_smoothing"]).items()} for n in LOSS_NAMES}))`,
    ) as Record<string, Record<string, number>>;
    const inputs = { lw: tf.tensor1d(PAIRS.logp_w), ll: tf.tensor1d(PAIRS.logp_l), refW: tf.tensor1d(PAIRS.ref_w), refL: tf.tensor1d(PAIRS.ref_l) };
    for (const name of LOSS_NAMES) {
      const g = lossAndLogpGrads(LOSSES[name], inputs, { beta: h.beta, clip: h.clip, labelSmoothing: h.label_smoothing });
      const m = standardMetrics({ ...inputs, ...g, beta: h.beta });
      for (const key of ['balance/log10_prob_ratio', 'balance/logp_grad_ratio'] as const) {
        const v = m[key].dataSync()[0];
        expect(Math.abs(py[name][key] - v), `${name} ${key}: torch ${py[name][key]}, lab ${v}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
      }
      tf.dispose([g.perPair, g.gw, g.gl, ...Object.values(m)]);
    }
    tf.dispose(Object.values(inputs));
  });
});

describe.skipIf(!hasPython)('the exported job', () => {
  const model = tmp.file('tiny-gpt2');
  writeTinyModel(model, { arch: 'gpt2' });
  const data = tmp.file('pairs.jsonl');
  const rows = [
    ...Array.from({ length: 12 }, (_, i) => ({ prompt: `Question ${i}?`, chosen: ` answer ${i}`, rejected: ` nope ${i}` })),
    { prompt: 'same', chosen: 'x', rejected: 'x' },
    { prompt: 'empty', chosen: '  ', rejected: 'y' },
  ];
  fs.writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\nnot json\n');
  const runConfig = {
    model,
    data,
    loss: 'bdpo',
    beta: 0.25,
    clip: 0.75,
    lr: 3e-5,
    steps: 40,
    batchSize: 4,
    gradAccum: 2,
    schedule: 'cosine',
    warmupSteps: 4,
    seed: 11,
    evalFraction: 0.25,
    maxEvalPairs: 2,
    evalEvery: 10,
    loraRank: 4,
  };

  it('writes every file; the Python compiles; train.py carries the run values; configs and requirements are pinned', async () => {
    const parsed = LlmConfigSchema.parse(runConfig);
    const split = await labDataSplit(parsed);
    const { out, result } = writeJob('job', runConfig, split);
    expect(result.trlVersion).toBe(TRL_VERSION);
    for (const f of [
      'dpo_lab_losses.py',
      'dpo_lab_data.py',
      'train.py',
      'dpo_lab_run.json',
      'data_split.json',
      'requirements.txt',
      'README.md',
      'slurm.sh',
      'accelerate/one_gpu.yaml',
      'accelerate/multi_gpu_ddp.yaml',
      'accelerate/deepspeed_zero2.yaml',
      'accelerate/deepspeed_zero3.yaml',
    ])
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const compiled = python(['-m', 'py_compile', 'train.py', 'dpo_lab_losses.py', 'dpo_lab_data.py'], out);
    expect(compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
    expect(spawnSync('bash', ['-n', path.join(out, 'slurm.sh')]).status).toBe(0);

    const run = pyJson(
      out,
      `import ast\nt = ast.parse(open("train.py").read())\nprint(json.dumps(next(ast.literal_eval(a.value) for a in t.body if isinstance(a, ast.Assign) and a.targets[0].id == "RUN")))`,
    );
    expect(run).toMatchObject({ ...runConfig, loraTargets: ['c_attn'] });
    expect(run).not.toHaveProperty('threads');
    const train = fs.readFileSync(path.join(out, 'train.py'), 'utf8');
    expect(train).toContain(`TRL_VERSION = "${TRL_VERSION}"`);
    expect(train).toMatch(/class DpoLabTrainer\(DPOTrainer\)/);
    expect(train).toMatch(/def dpo_loss\(self, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps/);

    const req = fs.readFileSync(path.join(out, 'requirements.txt'), 'utf8').trim().split('\n');
    // TRL at the commit train.py was checked against; everything else an exact release
    expect(req).toContain(`trl @ git+https://github.com/huggingface/trl.git@${TRL_COMMIT}`);
    expect(TRL_COMMIT).toMatch(/^[0-9a-f]{40}$/);
    for (const line of req.filter((l) => !l.startsWith('trl @'))) expect(line).toMatch(/^[a-z0-9-]+==\d+\.\d+\.\d+$/);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toContain(`huggingface/trl commit \`${TRL_COMMIT}\``);
    const yaml = (n: string) => fs.readFileSync(path.join(out, 'accelerate', n), 'utf8');
    expect(yaml('one_gpu.yaml')).toMatch(/num_processes: 1\n/);
    expect(yaml('multi_gpu_ddp.yaml')).toMatch(/distributed_type: MULTI_GPU/);
    expect(yaml('deepspeed_zero2.yaml')).toMatch(/^distributed_type: DEEPSPEED$/m);
    expect(yaml('deepspeed_zero2.yaml')).toMatch(/^ {2}zero_stage: 2$/m);
    expect(yaml('deepspeed_zero3.yaml')).toMatch(/^ {2}zero3_init_flag: true\n {2}zero3_save_16bit_model: true\n {2}zero_stage: 3$/m);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'dpo_lab_run.json'), 'utf8'))).toMatchObject({ runId: 7, config: { loss: 'bdpo', beta: 0.25 } });
    expect(() => writeTrlJob({ runId: 7, config: parsed, out, split: null })).toThrow(/folder is not empty/);
  });

  it("dpo_lab_data.py reads the same pairs as the lab and, with data_split.json, the lab run's train and held-out pairs", async () => {
    const parsed = LlmConfigSchema.parse(runConfig);
    const split = await labDataSplit(parsed);
    expect(split.pairs).toBe(12);
    expect(split.eval.length).toBe(2);
    const { out } = writeJob('job-data', runConfig, split);
    const lab = await loadPreferenceFile(data);
    const got = pyJson(
      out,
      `from dpo_lab_data import load_pairs, split_pairs
fmt, pairs = load_pairs(${JSON.stringify(data)}, "auto", "better", 0)
tr, ev = split_pairs(pairs, 0.25, 11, "data_split.json")
print(json.dumps({"fmt": fmt, "pairs": pairs, "train": tr, "eval": ev}))`,
    ) as { fmt: string; pairs: unknown[]; train: { prompt: string }[]; eval: { prompt: string }[] };
    expect(got.fmt).toBe(lab.format);
    expect(got.pairs).toEqual(lab.pairs.map(({ prompt, chosen, rejected }) => ({ prompt, chosen, rejected })));
    expect(got.train.map((p) => p.prompt)).toEqual(split.train.map((i) => lab.pairs[i].prompt));
    expect(got.eval.map((p) => p.prompt)).toEqual(split.eval.map((i) => lab.pairs[i].prompt));
  });

  it.each([
    [
      'hh',
      [
        { chosen: '\n\nHuman: Hi\n\nAssistant: Hello!', rejected: '\n\nHuman: Hi\n\nAssistant: Go away.' },
        { chosen: '\n\nHuman: A\n\nAssistant: b\n\nHuman: C\n\nAssistant: d', rejected: '\n\nHuman: A\n\nAssistant: b\n\nHuman: C\n\nAssistant: e' },
        { chosen: '\n\nHuman: X\n\nAssistant: y', rejected: '\n\nHuman: Z\n\nAssistant: y' },
        { chosen: 'no turns', rejected: 'at all' },
      ],
      'better',
    ],
    [
      'saferlhf',
      [
        { prompt: 'p1', response_0: 'a', response_1: 'b', better_response_id: 1, safer_response_id: 0, is_response_0_safe: true, is_response_1_safe: 'False' },
        { prompt: 'p2', response_0: 'c', response_1: 'd', better_response_id: 0, safer_response_id: 1, is_response_0_safe: 0, is_response_1_safe: 1 },
        { prompt: 'p3', response_0: 'e', response_1: 'f', better_response_id: 2, safer_response_id: 5, is_response_0_safe: true, is_response_1_safe: true },
        { prompt: 'p4', response_0: 'g', response_1: 'h', better_response_id: 0, safer_response_id: 0, is_response_0_safe: 'maybe', is_response_1_safe: true },
      ],
      'safer',
    ],
  ] as const)("%s: dpo_lab_data.py's pairs are the lab's", async (format, records, preference) => {
    const file = tmp.file(`${format}.jsonl`);
    fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { out } = writeJob(`job-${format}`, { model: '/m', data: file });
    const lab = await loadPreferenceFile(file, { preference });
    const got = pyJson(out, `from dpo_lab_data import load_pairs\nprint(json.dumps(load_pairs(${JSON.stringify(file)}, "auto", "${preference}", 0)))`) as [
      string,
      unknown[],
    ];
    expect(got[0]).toBe(format);
    expect(lab.pairs.length).toBeGreaterThan(0);
    expect(got[1]).toEqual(lab.pairs.map(({ prompt, chosen, rejected }) => ({ prompt, chosen, rejected })));
  });
});

/**
 * train.py without TRL: everything but its DpoLabTrainer subclass and main() needs torch only, so the test imports
 * it with Debian's python3-torch (no TRL, transformers, datasets or peft on the path, and no stand-ins for them) and
 * checks what the subclass hands TRL: dpo_loss's (losses, chosen_rewards, rejected_rewards), the balance metrics, the
 * DPOConfig and LoraConfig arguments, the rows, and the launch-time check of the installed TRL's API.
 */
describe.skipIf(!hasTorch)('train.py with torch alone (python3-torch)', () => {
  const job = writeJob('train-py-job', { model: '/m', data: '/d.jsonl' });

  it.each(HYPERS)("lab_dpo_loss returns TRL's dpo_loss tuple with the lab's loss for every registry loss (%o)", (h) => {
    const lab = inspectLosses({ ...PAIRS, ...h, losses: [...LOSS_NAMES] });
    const py = pyJson(
      job.out,
      `import torch, train
from dpo_lab_losses import LOSS_NAMES, dpo_lab_loss, lab_metrics
p = ${JSON.stringify({ ...PAIRS, ...h })}
out = {"imported": sorted(m for m in ("trl", "transformers", "datasets", "peft") if m in sys.modules)}
for name in LOSS_NAMES:
    t = lambda k: torch.tensor(p[k], dtype=torch.float32)
    lw, ll = t("logp_w").requires_grad_(True), t("logp_l").requires_grad_(True)
    run = dict(train.RUN, loss=name, clip=p["clip"], labelSmoothing=p["label_smoothing"])
    (losses, cr, rr), metrics = train.lab_dpo_loss(run, p["beta"], lw, ll, t("ref_w"), t("ref_l"))
    direct = dpo_lab_loss(name, lw, ll, t("ref_w"), t("ref_l"), p["beta"], p["clip"], p["label_smoothing"])
    expected_metrics = lab_metrics(name, lw, ll, t("ref_w"), t("ref_l"), p["beta"], p["clip"], p["label_smoothing"])
    losses.sum().backward()
    out[name] = {
        "shapes": [list(losses.shape), list(cr.shape), list(rr.shape)],
        "grad": [losses.requires_grad, cr.requires_grad, rr.requires_grad],
        "same_as_direct": torch.equal(losses.detach(), direct.detach()),
        "loss": losses.tolist(), "chosen": cr.tolist(), "rejected": rr.tolist(),
        "grad_w": lw.grad.tolist(), "grad_l": ll.grad.tolist(),
        "metrics": {k: v.item() for k, v in metrics.items()},
        "expected_metrics": {k: v.item() for k, v in expected_metrics.items()},
    }
print(json.dumps(out))`,
    ) as { imported: string[] } & Record<
      string,
      {
        shapes: number[][];
        grad: boolean[];
        same_as_direct: boolean;
        loss: number[];
        chosen: number[];
        rejected: number[];
        grad_w: number[];
        grad_l: number[];
        metrics: Record<string, number>;
        expected_metrics: Record<string, number>;
      }
    >;
    expect(py.imported).toEqual([]);
    const n = PAIRS.logp_w.length;
    const close = (got: number, want: number, what: string) =>
      expect(Math.abs(got - want), `${what}: train.py ${got}, lab ${want}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
    for (const name of LOSS_NAMES) {
      const r = py[name];
      expect(r.shapes, name).toEqual([[n], [n], [n]]);
      // the loss carries the gradient TRL backpropagates; the rewards are detached metrics
      expect(r.grad, name).toEqual([true, false, false]);
      expect(r.same_as_direct, name).toBe(true);
      lab[name].loss.forEach((v, i) => close(r.loss[i], v, `${name} loss[${i}]`));
      lab[name].grad_w.forEach((v, i) => close(r.grad_w[i], v, `${name} grad_w[${i}]`));
      lab[name].grad_l.forEach((v, i) => close(r.grad_l[i], v, `${name} grad_l[${i}]`));
      PAIRS.logp_w.forEach((lw, i) => close(r.chosen[i], h.beta * (lw - PAIRS.ref_w[i]), `${name} chosen_rewards[${i}]`));
      PAIRS.logp_l.forEach((ll, i) => close(r.rejected[i], h.beta * (ll - PAIRS.ref_l[i]), `${name} rejected_rewards[${i}]`));
      expect(Object.keys(r.metrics).sort(), name).toEqual(['balance/log10_prob_ratio', 'balance/logp_grad_ratio']);
      expect(r.metrics, name).toEqual(r.expected_metrics);
    }
  });

  it("a custom run's train.py trains on its formula: lab_dpo_loss uses the run's custom loss by name", () => {
    // a run whose config chose a formula (loss 'custom'), exported with the saved losses beside it (its own name first)
    const [own, ...saved] = CUSTOM_FORMULAS;
    const customJob = writeJob('train-custom-job', { model: '/m', data: '/d.jsonl', loss: 'custom', customLoss: own }, null, [...saved, own]);
    expect(fs.readFileSync(path.join(customJob.out, 'README.md'), 'utf8')).toContain(`Loss **${own.name}**`);
    const h = HYPERS[1];
    const py = pyJson(
      customJob.out,
      `import torch, train
from dpo_lab_losses import dpo_lab_loss
p = ${JSON.stringify({ ...PAIRS, ...h })}
t = lambda k: torch.tensor(p[k], dtype=torch.float32)
from dpo_lab_losses import CUSTOM_LOSS_NAMES
assert train.RUN["loss"] == "custom" and train.RUN["customLoss"]["name"] == "soft-weighted", train.RUN
run = dict(train.RUN, clip=p["clip"], labelSmoothing=0.0)
(losses, cr, rr), metrics = train.lab_dpo_loss(run, p["beta"], t("logp_w"), t("logp_l"), t("ref_w"), t("ref_l"))
direct = dpo_lab_loss("soft-weighted", t("logp_w"), t("logp_l"), t("ref_w"), t("ref_l"), p["beta"], p["clip"])
try:
    train.lab_loss_name(dict(train.RUN, loss="custom", customLoss=None))
    missing = None
except SystemExit as e:
    missing = str(e)
print(json.dumps({"names": list(CUSTOM_LOSS_NAMES), "name": train.lab_loss_name(run), "builtin": train.lab_loss_name(dict(train.RUN, loss="ipo")),
                  "same": torch.equal(losses, direct), "metrics": sorted(metrics), "missing": missing}))`,
    );
    expect(py).toEqual({
      names: CUSTOM_FORMULAS.map((c) => c.name),
      name: 'soft-weighted',
      builtin: 'ipo',
      same: true,
      metrics: ['balance/log10_prob_ratio', 'balance/logp_grad_ratio'],
      missing: 'RUN["loss"] is "custom" but RUN has no customLoss (name and formula)',
    });
  });

  it("hands DPOConfig and LoraConfig the run's values and trains on the lab's split", async () => {
    const model = tmp.file('train-py-model');
    writeTinyModel(model, { arch: 'gpt2' });
    const data = tmp.file('train-py-pairs.jsonl');
    fs.writeFileSync(
      data,
      Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `Q${i}?`, chosen: ` yes ${i}`, rejected: ` no ${i}` })).join('\n') + '\n',
    );
    const runConfig = {
      model,
      data,
      loss: 'nbdpo-symm',
      beta: 0.5,
      clip: 0.5,
      lr: 2e-5,
      steps: 30,
      batchSize: 3,
      gradAccum: 4,
      schedule: 'constant',
      seed: 5,
      evalFraction: 0.3,
      evalEvery: 0,
      checkpointEvery: 10,
      loraRank: 16,
      loraAlpha: 32,
    } as const;
    const parsed = LlmConfigSchema.parse(runConfig);
    const split = await labDataSplit(parsed);
    const { out } = writeJob('train-py-values', runConfig, split);
    const got = pyJson(
      out,
      `import train
cfg = train.dpo_config_kwargs(train.RUN, "/out", True, False, False)
fmt, chat, tr, ev = train.training_rows(train.RUN, train.RUN["data"], "data_split.json", False)
_, chat_t, tr_t, _ = train.training_rows(train.RUN, train.RUN["data"], "data_split.json", True)
full = train.lora_config_kwargs(dict(train.RUN, finetune="full"))
print(json.dumps({"config": cfg, "lora": train.lora_config_kwargs(train.RUN), "full": full, "fmt": fmt, "chat": [chat, chat_t],
                  "train": [r["prompt"] for r in tr], "eval": [r["prompt"] for r in ev], "chat_row": tr_t[0]}))`,
    ) as {
      config: Record<string, unknown>;
      lora: Record<string, unknown>;
      full: null;
      fmt: string;
      chat: boolean[];
      train: string[];
      eval: string[];
      chat_row: Record<string, unknown>;
    };
    expect(got.config).toMatchObject({
      output_dir: '/out',
      beta: 0.5,
      loss_type: 'sigmoid',
      max_length: 512,
      max_prompt_length: null,
      truncation_mode: 'keep_start',
      max_steps: 30,
      per_device_train_batch_size: 3,
      gradient_accumulation_steps: 4,
      learning_rate: 2e-5,
      lr_scheduler_type: 'constant',
      seed: 5,
      eval_strategy: 'no',
      save_steps: 10,
      max_grad_norm: 1,
      logging_steps: 1,
      gradient_checkpointing: false,
    });
    expect(got.lora).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0, target_modules: ['c_attn'], task_type: 'CAUSAL_LM' });
    expect(got.full).toBeNull();
    const lab = await loadPreferenceFile(data);
    expect(got.fmt).toBe('generic');
    expect(got.train).toEqual(split.train.map((i) => lab.pairs[i].prompt));
    expect(got.eval).toEqual(split.eval.map((i) => lab.pairs[i].prompt));
    // promptFormat auto: raw text without a chat template, TRL's conversational format with one
    expect(got.chat).toEqual([false, true]);
    expect(got.chat_row).toMatchObject({ prompt: [{ role: 'user' }], chosen: [{ role: 'assistant' }], rejected: [{ role: 'assistant' }] });
  });

  it("passes the checked TRL's signatures (trl @ TRL_COMMIT) and stops on the July-2023 DPOTrainer's (trl @ 9d58faa), by name", () => {
    // The classes carry the signatures read in huggingface/trl's trl/trainer/dpo_trainer.py at those two commits;
    // only their signatures and source matter to trl_api_problems, which gets them as arguments.
    const got = pyJson(
      job.out,
      `import dataclasses, train
class Trainer2023:
    def __init__(self, model=None, ref_model=None, beta=0.1, args=None, tokenizer=None, max_length=None, peft_config=None):
        pass
    def dpo_loss(self, policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps, reference_free=False):
        pass
    def get_batch_metrics(self, model, batch, train_test="train"):
        return self.dpo_loss(None, None, None, None)
class Trainer013:
    def __init__(self, model=None, ref_model=None, args=None, data_collator=None, train_dataset=None, eval_dataset=None,
                 processing_class=None, model_init=None, compute_metrics=None, callbacks=None, optimizers=(None, None),
                 preprocess_logits_for_metrics=None, peft_config=None):
        pass
    def dpo_loss(self, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps):
        pass
    def get_batch_loss_metrics(self, model, batch, train_eval="train"):
        model_output = {}
        losses, chosen_rewards, rejected_rewards = self.dpo_loss(
            model_output["chosen_logps"], model_output["rejected_logps"], None, None
        )
kw = train.dpo_config_kwargs(train.RUN, "/out", False, False, False)
Full = dataclasses.make_dataclass("Full", list(kw))
Short = dataclasses.make_dataclass("Short", [k for k in kw if k not in ("max_prompt_length", "eval_strategy")])
print(json.dumps({"old": train.trl_api_problems(Trainer2023, Short, kw), "new": train.trl_api_problems(Trainer013, Full, kw)}))`,
    ) as { old: string[]; new: string[] };
    expect(got.new).toEqual([]);
    expect(got.old).toEqual([
      'DPOTrainer.dpo_loss takes (policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps, reference_free), not (chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps)',
      'DPOTrainer has no get_batch_loss_metrics method',
      'DPOTrainer() takes no processing_class argument',
      'DPOConfig has no field eval_strategy, max_prompt_length',
    ]);
  });

  it('the accelerate configs read, with PyYAML as accelerate reads them, as the run and the launcher need', () => {
    const { out } = writeJob('yaml-job', { model: '/m', data: '/d.jsonl', gradAccum: 6, maxGradNorm: 0.5 });
    const got = pyJson(
      out,
      `import yaml, os
print(json.dumps({n: yaml.safe_load(open(os.path.join("accelerate", n))) for n in sorted(os.listdir("accelerate"))}))`,
    ) as Record<string, Record<string, unknown>>;
    expect(Object.keys(got)).toEqual(['deepspeed_zero2.yaml', 'deepspeed_zero3.yaml', 'multi_gpu_ddp.yaml', 'one_gpu.yaml']);
    // a bare NO is YAML 1.1's false: accelerate would not read it as DistributedType.NO
    expect(got['one_gpu.yaml']).toMatchObject({ distributed_type: 'NO', num_processes: 1, mixed_precision: 'bf16' });
    expect(got['multi_gpu_ddp.yaml']).toMatchObject({ distributed_type: 'MULTI_GPU', num_processes: 8 });
    for (const [name, stage] of [
      ['deepspeed_zero2.yaml', 2],
      ['deepspeed_zero3.yaml', 3],
    ] as const) {
      expect(got[name]).toMatchObject({ distributed_type: 'DEEPSPEED' });
      // equal to train.py's TrainingArguments: transformers refuses a DeepSpeed value that differs
      expect(got[name].deepspeed_config).toMatchObject({
        zero_stage: stage,
        gradient_accumulation_steps: 6,
        gradient_clipping: 0.5,
        zero3_init_flag: stage === 3,
      });
    }
    expect(got['deepspeed_zero3.yaml'].deepspeed_config).toMatchObject({ zero3_save_16bit_model: true });
  });
});

describe('custom losses in the export', () => {
  it("refuses a formula that does not parse, a built-in's name, or a custom run without its formula, before writing anything", () => {
    expect(() => lossesPy([{ name: 'bad', formula: '-logsigmoid(beta * (logp_w - ))' }])).toThrow(/invalid loss formula: .*\(at character \d+\)/);
    expect(() => lossesPy([{ name: 'dpo', formula: 'logp_w' }])).toThrow('custom loss "dpo" has the name of a built-in loss; rename it to export it');
    expect(() =>
      lossesPy([
        { name: 'x', formula: 'logp_w' },
        { name: 'x', formula: 'logp_l' },
      ]),
    ).toThrow('two custom losses are named "x"');
    const out = tmp.file('bad-formula-job');
    expect(() => writeJob('bad-formula-job', { model: '/m', data: '/d.jsonl' }, null, [{ name: 'bad', formula: 'sg(' }])).toThrow(/invalid loss formula/);
    expect(fs.existsSync(out)).toBe(false);
    expect(runCustomLoss({ loss: 'dpo' })).toBeNull();
    expect(runCustomLoss({ loss: 'custom', customLoss: { name: 'a', formula: 'logp_w' } })).toEqual({ name: 'a', formula: 'logp_w' });
    expect(() => runCustomLoss({ loss: 'custom' })).toThrow('config has no customLoss');
  });

  it('writes each custom loss once, named, with its formula as a comment above the function written from it', () => {
    const py = lossesPy(CUSTOM_FORMULAS);
    for (const c of CUSTOM_FORMULAS) expect(py).toContain(`# custom loss ${JSON.stringify(c.name)}, written from its formula:\n# ${c.formula.split('\n')[0]}`);
    expect(py).toMatch(/f_w = torch\.sigmoid\(\(\(-beta\) \* f_h\)\)\.detach\(\)/);
    // nothing in a formula's comment can end the Python comment it is copied into
    expect(lossesPy([{ name: 'c', formula: 'logp_w # """ \u0000 x\u000b' }])).toMatch(/^# logp_w # """ {2}x$/m);
  });
});

describe('import-trl', () => {
  const entry = (step: number, loss: number) => ({
    epoch: step / 10,
    grad_norm: 1.5,
    learning_rate: 1e-5,
    loss,
    'rewards/chosen': 0.1 * step,
    'rewards/rejected': -0.1 * step,
    'rewards/accuracies': 0.75,
    'rewards/margins': 0.2 * step,
    'logps/chosen': -50,
    'logps/rejected': -60,
    'logits/chosen': -1.2,
    'balance/log10_prob_ratio': 0.5,
    'balance/logp_grad_ratio': 1.25,
    step,
  });
  const evalEntry = (step: number) => ({
    epoch: step / 10,
    eval_loss: 0.6,
    'eval_rewards/accuracies': 0.5,
    eval_runtime: 3.2,
    eval_samples_per_second: 20,
    step,
  });
  const state = (steps: number[], done: boolean) => ({
    best_metric: null,
    epoch: steps.at(-1)! / 10,
    eval_steps: 2,
    global_step: steps.at(-1),
    is_world_process_zero: true,
    log_history: [
      ...steps.flatMap((s) => (s % 2 === 0 ? [entry(s, 0.7 - s / 100), evalEntry(s)] : [entry(s, 0.7 - s / 100)])),
      ...(done
        ? [{ epoch: 0.4, step: steps.at(-1), total_flos: 0, train_loss: 0.65, train_runtime: 100, train_samples_per_second: 1, train_steps_per_second: 0.1 }]
        : []),
    ],
    logging_steps: 1,
    max_steps: 4,
    num_train_epochs: 1,
    total_flos: 0,
    train_batch_size: 2,
  });

  it('creates a trl run with the metrics by step under their names, then adds only new steps on re-import', () => {
    const { out } = writeJob('import-job', { model: '/m', data: '/d.jsonl', loss: 'nbdpo-symm', beta: 0.3 });
    const outputDir = path.join(out, 'output');
    fs.mkdirSync(path.join(outputDir, 'checkpoint-2'), { recursive: true });
    fs.writeFileSync(path.join(outputDir, 'checkpoint-2', 'trainer_state.json'), JSON.stringify(state([1, 2], false)));
    const store = LabStore.open(tmp.file('lab.sqlite'));
    try {
      const first = importTrlJob(store, out);
      expect(first).toMatchObject({ created: true, addedSteps: 2, lastStep: 2 });
      const run = store.runs.get(first.runId)!;
      expect(run).toMatchObject({
        kind: 'trl',
        status: 'done',
        loss: 'nbdpo-symm',
        config: { beta: 0.3, source: { kind: 'trl', dir: out, exportedFromRun: 7, globalStep: 2 } },
      });
      const series = store.metrics.series(first.runId);
      const lossAt = (s: number) => 0.7 - s / 100;
      expect(series.loss).toEqual({ steps: [1, 2], values: [lossAt(1), lossAt(2)] });
      expect(series.eval_loss).toEqual({ steps: [2], values: [0.6] });
      expect(series['balance/log10_prob_ratio'].values).toEqual([0.5, 0.5]);
      expect(series).not.toHaveProperty('eval_runtime');
      expect(series).not.toHaveProperty('step');

      // the job went on: the final save writes output/trainer_state.json with the whole history
      fs.writeFileSync(path.join(outputDir, 'trainer_state.json'), JSON.stringify(state([1, 2, 3, 4], true)));
      // a value the lab already holds is not rewritten by a re-import
      store.metrics.append(first.runId, { steps: [1], nameIdx: [0], names: ['loss'], values: [123] });
      const again = importTrlJob(store, out);
      expect(again).toMatchObject({ runId: first.runId, created: false, addedSteps: 2, lastStep: 4 });
      const s2 = store.metrics.series(first.runId);
      expect(s2.loss).toEqual({ steps: [1, 2, 3, 4], values: [123, lossAt(2), lossAt(3), lossAt(4)] });
      expect(s2).not.toHaveProperty('train_loss');
      expect(store.runs.get(first.runId)!.final).toMatchObject({ loss: lossAt(4), eval_loss: 0.6 });
      expect(importTrlJob(store, out)).toMatchObject({ runId: first.runId, addedSteps: 0 });
      expect(store.runs.list({ kind: 'trl' })).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('a malformed trainer_state.json is refused with the file and the field', () => {
    const dir = tmp.file('bad-job');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'trainer_state.json');
    const bad = state([1, 2], false) as { log_history: Record<string, unknown>[] };
    bad.log_history[1].step = 'two';
    fs.writeFileSync(file, JSON.stringify(bad));
    const store = LabStore.open(tmp.file('lab-bad.sqlite'));
    try {
      expect(() => importTrlJob(store, dir)).toThrow(`${file}: log_history[1].step: expected a whole number, got string "two"`);
      expect(store.runs.list()).toHaveLength(0);
    } finally {
      store.close();
    }
    expect(() => parseTrainerState('{"log_history": {}}', 'x.json')).toThrow('x.json: log_history: expected an array of log entries, got an object');
    expect(() => parseTrainerState('{"log_history": [{"step": 1, "loss": [1]}]}', 'x.json')).toThrow(
      'x.json: log_history[0].loss: expected a number, got an array',
    );
    expect(() => parseTrainerState('{"log_history": [', 'x.json')).toThrow(/^x\.json: not JSON/);
    // what Python's json writes for a diverged loss
    expect(parseTrainerState('{"log_history": [{"step": 3, "loss": NaN, "grad_norm": Infinity}]}', 'x.json').steps).toEqual([
      { step: 3, values: { loss: NaN, grad_norm: NaN } },
    ]);
    expect(() => importTrlJob(store, tmp.file('nowhere'))).toThrow(/no such folder/);
  });
});

describe('lab export-trl / lab import-trl', () => {
  it('exports an LLM run, imports its trainer_state.json as {"runId"}, refuses other runs and malformed logs by name', async () => {
    const db = tmp.file('cli.sqlite');
    const store = LabStore.open(db);
    const config = LlmConfigSchema.parse({ model: tmp.file('no-model'), data: tmp.file('no-data.jsonl'), loss: 'nbdpo2-asymm', beta: 0.2 });
    const llmId = store.runs.create({ name: 'llm', kind: 'llm', config });
    const synthId = store.runs.create({ name: 'synthetic', kind: 'synthetic', config: { loss: 'dpo' } });
    store.close();
    const job = tmp.file('cli-job');

    const exported = await runCli(db, ['export-trl', '--run', String(llmId), '--out', job, '--json']);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    // the data is not on this machine: the job still exports, and train.py will split by the seed
    expect(JSON.parse(exported.stdout)).toMatchObject({ out: job, trlVersion: TRL_VERSION, splitRecorded: false });
    expect(fs.readFileSync(path.join(job, 'train.py'), 'utf8')).toContain('"loss": "nbdpo2-asymm"');

    const other = await runCli(db, ['export-trl', '--run', String(synthId), '--out', tmp.file('cli-job-2')]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain(`run ${synthId} is a synthetic run; only LLM runs export as a TRL job`);

    fs.mkdirSync(path.join(job, 'output'));
    const stateFile = path.join(job, 'output', 'trainer_state.json');
    fs.writeFileSync(stateFile, JSON.stringify({ global_step: 1, max_steps: 2, log_history: [{ loss: 0.69, 'rewards/margins': 0.01, step: 1 }] }));
    const imported = await runCli(db, ['import-trl', job, '--json']);
    expect(imported.stderr).toBe('');
    const { runId } = JSON.parse(imported.stdout) as { runId: number };
    const check = LabStore.open(db);
    try {
      expect(check.runs.get(runId)).toMatchObject({ kind: 'trl', loss: 'nbdpo2-asymm', config: { source: { exportedFromRun: llmId } } });
      expect(check.metrics.series(runId)['rewards/margins']).toEqual({ steps: [1], values: [0.01] });
    } finally {
      check.close();
    }

    fs.writeFileSync(stateFile, JSON.stringify({ log_history: [{ loss: 'high', step: 2 }] }));
    const bad = await runCli(db, ['import-trl', job]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`${stateFile}: log_history[0].loss: expected a number, got string "high"`);
  });
});
