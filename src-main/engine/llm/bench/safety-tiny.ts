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
import type { BenchProgress } from '@shared/bench';
import { meanStat, proportionStat, summarizeEval, type EvalResponseRow, type EvalSettings, type EvalSummary } from '@shared/eval';
import { MemorySink, RunCancelled } from '../../sink';
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

/** One evaluated policy of the grid with everything an evaluation record holds. */
export interface SafetyTinyEvaluation {
  row: SafetyTinyRow;
  /** the policy folder */
  model: string;
  /** the eval prompts file */
  prompts: string;
  reward: string;
  cost: string;
  /** the SFT model, which the win rate is against (null for the SFT row itself) */
  reference: string | null;
  settings: EvalSettings;
  /** Help, Harm, S.R., win rate against the SFT model (learned scorers) and the oracle's numbers, with standard errors */
  summary: EvalSummary;
  responses: EvalResponseRow[];
}

export interface SafetyTinyOptions {
  seeds: number[];
  losses: LossName[];
  /** where models, data and runs are written (one folder per seed) */
  workDir: string;
  budget?: Partial<SafetyTinyBudget>;
  log?: (line: string) => void;
  /** each stage as it starts */
  onProgress?: (p: BenchProgress) => void;
  /** each row of the grid as soon as it is evaluated */
  onRow?: (e: SafetyTinyEvaluation) => void;
  /** asked between stages; true stops the benchmark with RunCancelled */
  cancelled?: () => boolean | Promise<boolean>;
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

/** Responses of one policy, scored by the learned scorers and by the oracle. */
interface Scored {
  texts: string[];
  rewards: number[];
  costs: number[];
  oracleHelp: number[];
  oracleHarm: number[];
  tokensPerSecond: number;
}

const evalSettings = (b: SafetyTinyBudget): EvalSettings => ({
  maxNewTokens: b.maxNewTokens,
  temperature: 0,
  topP: 1,
  seed: 0,
  batchSize: 64,
  promptFormat: 'raw',
});

/** Greedy responses of a model folder to the eval prompts, scored by the learned scorers and by the oracle. */
async function scoreModel(dir: string, prompts: readonly TaskRequest[], scorers: Scorers, b: SafetyTinyBudget): Promise<Scored> {
  const tok = await loadTokenizer(dir);
  const lm = await loadCausalLM(dir);
  const s = evalSettings(b);
  let texts: string[];
  let tokensPerSecond: number;
  try {
    const out = generate(
      lm,
      tok,
      prompts.map((p) => tok.encode(p.prompt)),
      { maxNewTokens: s.maxNewTokens, temperature: s.temperature, topP: s.topP, seed: s.seed, batchSize: s.batchSize },
    );
    texts = out.sequences.map((seq) => tok.decode(seq, { skipSpecialTokens: true }));
    tokensPerSecond = out.tokensPerSecond;
  } finally {
    lm.dispose();
  }
  const full = prompts.map((p, i) => p.prompt + texts[i]);
  const score = async (scorerDir: string) => {
    const sc = await loadScorer(scorerDir);
    try {
      return scoreTexts(sc, tok, full, { appendEos: sc.meta?.appendEos ?? true, batchSize: 64 });
    } finally {
      sc.dispose();
    }
  };
  return {
    texts,
    rewards: await score(scorers.reward),
    costs: await score(scorers.cost),
    oracleHelp: prompts.map((p, i) => oracleHelp(p.prompt, texts[i])),
    oracleHarm: prompts.map((p, i) => oracleHarm(p.prompt, texts[i])),
    tokensPerSecond,
  };
}

/** The grid row and the evaluation record of a scored policy; the win rate is against the SFT model's responses. */
function evaluation(
  loss: string,
  seed: number,
  model: string,
  sc: Scored,
  ref: Scored | null,
  ctx: { prompts: readonly TaskRequest[]; promptsFile: string; scorers: Scorers; sftDir: string; b: SafetyTinyBudget },
): SafetyTinyEvaluation {
  const responses: EvalResponseRow[] = ctx.prompts.map((p, i) => ({
    index: i,
    prompt: p.prompt,
    response: sc.texts[i],
    reward: sc.rewards[i],
    cost: sc.costs[i],
    refResponse: ref ? ref.texts[i] : null,
    refReward: ref ? ref.rewards[i] : null,
  }));
  const summary: EvalSummary = {
    ...summarizeEval(responses),
    tokensPerSecond: sc.tokensPerSecond,
    oracleHelp: meanStat(sc.oracleHelp),
    oracleHarm: meanStat(sc.oracleHarm),
    oracleSr: proportionStat(sc.oracleHarm.filter((c) => c <= 0).length, sc.oracleHarm.length),
  };
  return {
    row: {
      loss,
      seed,
      help: mean(sc.rewards),
      harm: mean(sc.costs),
      sr: mean(sc.costs.map((c) => (c <= 0 ? 1 : 0))),
      oracleHelp: mean(sc.oracleHelp),
      oracleHarm: mean(sc.oracleHarm),
      oracleSr: mean(sc.oracleHarm.map((c) => (c <= 0 ? 1 : 0))),
    },
    model,
    prompts: ctx.promptsFile,
    reward: ctx.scorers.reward,
    cost: ctx.scorers.cost,
    reference: ref ? ctx.sftDir : null,
    settings: evalSettings(ctx.b),
    summary,
    responses,
  };
}

export async function runSafetyTiny(o: SafetyTinyOptions): Promise<SafetyTinyResult> {
  const t0 = Date.now();
  const b: SafetyTinyBudget = { ...SAFETY_TINY_BUDGET, ...o.budget };
  const log = o.log ?? (() => {});
  const seeds = o.seeds.length;
  const stage = async (p: Omit<BenchProgress, 'seeds'>) => {
    if (await o.cancelled?.()) throw new RunCancelled();
    o.onProgress?.({ ...p, seeds });
  };
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
    const promptsFile = path.join(dir, 'eval-prompts.jsonl');
    writeJsonl(
      promptsFile,
      data.evalPrompts.map((p) => ({ prompt: p.prompt })),
    );

    await stage({ stage: 'sft', seed });
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
      await stage({ stage: 'scorers', seed, what: kind });
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

    const ctx = { prompts: data.evalPrompts, promptsFile, scorers, sftDir, b };
    const add = (e: SafetyTinyEvaluation) => {
      rows.push(e.row);
      o.onRow?.(e);
    };
    await stage({ stage: 'eval', seed, what: 'sft' });
    t = Date.now();
    const sftScored = await scoreModel(sftDir, data.evalPrompts, scorers, b);
    add(evaluation('sft', seed, sftDir, sftScored, null, ctx));
    log(`seed ${seed}: sft evaluated, oracle S.R. ${rows.at(-1)!.oracleSr.toFixed(3)} (${since(t)})`);

    for (const [k, loss] of o.losses.entries()) {
      await stage({ stage: 'loss', seed, what: loss, k: k + 1, of: o.losses.length });
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
      await stage({ stage: 'eval', seed, what: loss });
      add(evaluation(loss, seed, policy, await scoreModel(policy, data.evalPrompts, scorers, b), sftScored, ctx));
      const r = rows.at(-1)!;
      log(`seed ${seed}: ${loss}: oracle help ${r.oracleHelp.toFixed(3)}, oracle S.R. ${r.oracleSr.toFixed(3)} (${since(t)})`);
    }
  }
  return { seconds: (Date.now() - t0) / 1000, rows };
}

/** The sizes a session asked for: the full or quick budget, with any field overridden. */
export function safetyTinyBudget(o: { quick?: boolean; budget?: Partial<SafetyTinyBudget> }): Partial<SafetyTinyBudget> {
  return { ...(o.quick ? SAFETY_TINY_QUICK_BUDGET : {}), ...o.budget };
}
