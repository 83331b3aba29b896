/**
 * `lab bench safety-tiny`: the paper's LLM pipeline on the safety-tiny task, small enough for a laptop CPU.
 * Per seed: task data → a tiny Llama trained from scratch by SFT → a reward model (Bradley–Terry on `better`
 * pairs) and a cost model (safe-rlhf on `safer` pairs with labels), both from the SFT model → one DPO-family
 * run per loss from the same SFT model on the `safer` pairs → greedy responses to the eval prompts, scored by
 * the learned scorers (Help, Harm, S.R.) and by the oracle (the truth the scorers approximate).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LlmConfigSchema } from '@shared/llm-config';
import type { LossName } from '@shared/losses';
import { MemorySink } from '../../sink';
import { loadCausalLM } from '../models';
import { loadTokenizer } from '../tokenizer';
import { generate } from '../generate';
import { loadScorer, scoreTexts } from '../scorer';
import { loadScorerPairs, trainScorer } from '../scorer-train';
import { trainSft } from '../sft';
import { trainLlm, type LlmSink } from '../train';
import { exportRunModel } from '../export-model';
import { generateSafetyTiny } from './safety-data';
import { oracleHarm, oracleHelp } from './safety-oracle';
import { SAFETY_TINY_SIZE, writeSafetyTinyBaseModel } from './safety-model';
import type { TaskRequest } from './safety-task';

export interface SafetyTinyRow {
  loss: string;
  seed: number;
  /** mean reward of the learned reward model */
  help: number;
  /** mean cost of the learned cost model */
  harm: number;
  /** fraction of responses the learned cost model calls safe (cost ≤ 0) */
  sr: number;
  oracleHelp: number;
  oracleHarm: number;
  oracleSr: number;
}

export interface SafetyTinyResult {
  seconds: number;
  rows: SafetyTinyRow[];
}

/** The sizes of every stage; the defaults fit one seed of six losses in about 15 minutes on two CPU cores. */
export interface SafetyTinyBudget {
  sftExamples: number;
  preferenceRows: number;
  evalPrompts: number;
  sftSteps: number;
  sftBatch: number;
  sftLr: number;
  scorerSteps: number;
  scorerBatch: number;
  scorerLr: number;
  dpoSteps: number;
  dpoBatch: number;
  dpoLr: number;
  beta: number;
  maxNewTokens: number;
}

export const SAFETY_TINY_BUDGET: SafetyTinyBudget = {
  sftExamples: 3000,
  preferenceRows: 2000,
  evalPrompts: 200,
  sftSteps: 400,
  sftBatch: 32,
  sftLr: 1e-2,
  scorerSteps: 150,
  scorerBatch: 16,
  scorerLr: 2e-3,
  dpoSteps: 60,
  dpoBatch: 16,
  dpoLr: 5e-4,
  beta: 0.1,
  maxNewTokens: 24,
};

/** A smoke-test budget: every stage runs, in seconds; the numbers mean little. */
export const SAFETY_TINY_QUICK_BUDGET: Partial<SafetyTinyBudget> = {
  sftExamples: 300,
  preferenceRows: 200,
  evalPrompts: 24,
  sftSteps: 20,
  sftBatch: 16,
  scorerSteps: 10,
  scorerBatch: 8,
  dpoSteps: 4,
  dpoBatch: 8,
};

export interface SafetyTinyOptions {
  seeds: number[];
  losses: LossName[];
  /** where models, data and runs are written (one folder per seed) */
  workDir: string;
  budget?: Partial<SafetyTinyBudget>;
  log?: (line: string) => void;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const writeJsonl = (file: string, rows: readonly unknown[]) => fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

/** A sink that keeps nothing but the log lines (the bench reports its own numbers). */
class LogSink extends MemorySink implements LlmSink {
  constructor(private readonly write: (line: string) => void) {
    super(false);
  }
  log(text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    if (level !== 'info') this.write(`  ${level}: ${text}`);
  }
  artifact(): void {}
}

interface Scorers {
  reward: string;
  cost: string;
}

/** Greedy responses of a model folder to the eval prompts, scored by the learned scorers and by the oracle. */
async function evaluateModel(
  dir: string,
  prompts: readonly TaskRequest[],
  scorers: Scorers,
  b: SafetyTinyBudget,
): Promise<Omit<SafetyTinyRow, 'loss' | 'seed'>> {
  const tok = await loadTokenizer(dir);
  const lm = await loadCausalLM(dir);
  let texts: string[];
  try {
    const out = generate(
      lm,
      tok,
      prompts.map((p) => tok.encode(p.prompt)),
      { maxNewTokens: b.maxNewTokens, temperature: 0, topP: 1, seed: 0, batchSize: 64 },
    );
    texts = out.sequences.map((s) => tok.decode(s, { skipSpecialTokens: true }));
  } finally {
    lm.dispose();
  }
  const full = prompts.map((p, i) => p.prompt + texts[i]);
  const score = async (scorerDir: string) => {
    const s = await loadScorer(scorerDir);
    try {
      return scoreTexts(s, tok, full, { appendEos: s.meta?.appendEos ?? true, batchSize: 64 });
    } finally {
      s.dispose();
    }
  };
  const rewards = await score(scorers.reward);
  const costs = await score(scorers.cost);
  const oHelp = prompts.map((p, i) => oracleHelp(p.prompt, texts[i]));
  const oHarm = prompts.map((p, i) => oracleHarm(p.prompt, texts[i]));
  return {
    help: mean(rewards),
    harm: mean(costs),
    sr: mean(costs.map((c) => (c <= 0 ? 1 : 0))),
    oracleHelp: mean(oHelp),
    oracleHarm: mean(oHarm),
    oracleSr: mean(oHarm.map((c) => (c <= 0 ? 1 : 0))),
  };
}

export async function runSafetyTiny(o: SafetyTinyOptions): Promise<SafetyTinyResult> {
  const t0 = Date.now();
  const b: SafetyTinyBudget = { ...SAFETY_TINY_BUDGET, ...o.budget };
  const log = o.log ?? (() => {});
  const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  const rows: SafetyTinyRow[] = [];
  for (const seed of o.seeds) {
    const dir = path.join(o.workDir, `seed-${seed}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const data = generateSafetyTiny({ seed, sftExamples: b.sftExamples, preferenceRows: b.preferenceRows, evalPrompts: b.evalPrompts });
    const prefFile = path.join(dir, 'preference.jsonl');
    writeJsonl(path.join(dir, 'sft.jsonl'), data.sft);
    writeJsonl(prefFile, data.preference);
    writeJsonl(path.join(dir, 'dpo.jsonl'), data.dpo);
    writeJsonl(
      path.join(dir, 'eval-prompts.jsonl'),
      data.evalPrompts.map((p) => ({ prompt: p.prompt })),
    );

    let t = Date.now();
    const base = path.join(dir, 'base');
    const { parameters } = writeSafetyTinyBaseModel(base, seed);
    const sftDir = path.join(dir, 'sft');
    const sft = await trainSft({
      model: base,
      out: sftDir,
      examples: data.sft,
      steps: b.sftSteps,
      batchSize: b.sftBatch,
      lr: b.sftLr,
      maxLength: SAFETY_TINY_SIZE.maxPositions,
      seed,
      onStep: (step, loss) => {
        if (step % 100 === 0 && step < b.sftSteps) log(`seed ${seed}: SFT step ${step}, loss ${loss.toFixed(3)} (${since(t)})`);
      },
    });
    log(
      `seed ${seed}: SFT of a ${(parameters / 1e3).toFixed(0)} k-parameter llama, ${b.sftSteps} steps, final loss ${sft.losses.at(-1)!.toFixed(3)} (${since(t)})`,
    );

    const scorers: Scorers = { reward: path.join(dir, 'reward'), cost: path.join(dir, 'cost') };
    for (const kind of ['reward', 'cost'] as const) {
      t = Date.now();
      const r = await trainScorer({
        kind,
        model: sftDir,
        out: scorers[kind],
        pairs: await loadScorerPairs(prefFile, kind),
        steps: b.scorerSteps,
        batchSize: b.scorerBatch,
        lr: b.scorerLr,
        maxLength: SAFETY_TINY_SIZE.maxPositions,
        seed,
      });
      log(
        `seed ${seed}: ${kind} model, held-out accuracy ${r.accuracy.toFixed(3)}${r.signAccuracy !== undefined ? `, sign accuracy ${r.signAccuracy.toFixed(3)}` : ''} (${since(t)})`,
      );
    }

    t = Date.now();
    rows.push({ loss: 'sft', seed, ...(await evaluateModel(sftDir, data.evalPrompts, scorers, b)) });
    log(`seed ${seed}: sft evaluated, oracle S.R. ${rows.at(-1)!.oracleSr.toFixed(3)} (${since(t)})`);

    for (const loss of o.losses) {
      t = Date.now();
      const runDir = path.join(dir, 'runs', loss);
      fs.mkdirSync(runDir, { recursive: true });
      const config = LlmConfigSchema.parse({
        model: sftDir,
        data: prefFile,
        dataFormat: 'saferlhf',
        preference: 'safer',
        promptFormat: 'raw',
        maxLength: SAFETY_TINY_SIZE.maxPositions,
        loss,
        beta: b.beta,
        finetune: 'full',
        steps: b.dpoSteps,
        batchSize: b.dpoBatch,
        lr: b.dpoLr,
        warmupSteps: Math.ceil(b.dpoSteps / 10),
        evalFraction: 0.05,
        evalEvery: 0,
        checkpointEvery: 0,
        seed,
      });
      await trainLlm({ config, runDir, resume: false }, new LogSink(log));
      const policy = path.join(dir, 'policies', loss);
      fs.mkdirSync(path.dirname(policy), { recursive: true });
      await exportRunModel({ config, runDir, out: policy, mode: 'merged', overwrite: true });
      rows.push({ loss, seed, ...(await evaluateModel(policy, data.evalPrompts, scorers, b)) });
      const r = rows.at(-1)!;
      log(`seed ${seed}: ${loss}: oracle help ${r.oracleHelp.toFixed(3)}, oracle S.R. ${r.oracleSr.toFixed(3)} (${since(t)})`);
    }
  }
  return { seconds: (Date.now() - t0) / 1000, rows };
}
