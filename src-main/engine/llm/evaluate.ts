import path from 'node:path';
import * as tf from '../tf';
import type { LlmConfig } from '@shared/llm-config';
import { summarizeEval, type EvalResponseRow, type EvalSettings, type EvalSummary } from '@shared/eval';
import { loadCausalLM, type CausalLM } from './models';
import { loadTokenizer, type LabTokenizer } from './tokenizer';
import { listCheckpoints, loadCheckpoint } from './checkpoints';
import { hhMessages, resolvePromptFormat } from './pair-tokens';
import { readEvalPrompts, type EvalPrompt } from './eval-prompts';
import { RunCancelled } from '../sink';

/** The policy under evaluation: an LLM run's newest checkpoint on its starting model, or a model folder. */
export type PolicySource = { kind: 'run'; config: LlmConfig; runDir: string } | { kind: 'model'; dir: string };

export interface EvalJobSpec {
  policy: PolicySource;
  /** the reference policy's model folder (win rate), or null */
  reference: string | null;
  prompts: string;
  samples: number | null;
  reward: string | null;
  cost: string | null;
  settings: EvalSettings;
}

export interface GenerateOutput {
  /** per prompt: the new text (EOS stripped) */
  texts: string[];
  newTokens: number;
  seconds: number;
}

/** A loaded scorer: one scalar per text (prompt + response as the policy saw and wrote them). */
export interface OpenScorer {
  score(texts: string[]): number[] | Promise<number[]>;
  dispose(): void;
}

/** The pieces evaluation needs from generation and scoring, passed in so each can be built and tested alone. */
export interface EvalEngine {
  generate(
    model: CausalLM,
    tokenizer: LabTokenizer,
    prompts: number[][],
    opts: { maxNewTokens: number; temperature: number; topP: number; seed: number; batchSize: number },
  ): GenerateOutput;
  openScorer(dir: string, fallbackTokenizer: LabTokenizer): Promise<OpenScorer>;
}

export interface EvalIo {
  progress(done: number, total: number): void;
  log(text: string): void;
  /** true once the user cancelled: work stops at the next batch */
  cancelled(): boolean | Promise<boolean>;
}

/** Where a prompt file's text comes from decides its chat messages (HH turns, PKU-SafeRLHF's wrapper, plain). */
function dataFormatOf(prompt: string): 'hh' | 'saferlhf' | 'generic' {
  if (/\n\nHuman:/.test(prompt)) return 'hh';
  if (/^BEGINNING OF CONVERSATION: USER: /.test(prompt)) return 'saferlhf';
  return 'generic';
}

/** The prompt text the policy sees: its chat template with the generation prompt, or the text as written. */
export function formatEvalPrompt(tok: LabTokenizer, prompt: string, option: EvalSettings['promptFormat']): string {
  const format = dataFormatOf(prompt);
  if (resolvePromptFormat(tok, option, format) === 'raw') return prompt;
  const saferlhf = /^BEGINNING OF CONVERSATION: USER: ([\s\S]*) ASSISTANT:$/.exec(prompt);
  const messages = format === 'hh' ? hhMessages(prompt) : [{ role: 'user' as const, content: saferlhf ? saferlhf[1] : prompt }];
  return tok.applyChatTemplate(messages, { addGenerationPrompt: true });
}

function tokenizePrompts(tok: LabTokenizer, prompts: EvalPrompt[], texts: string[], file: string, context: number): number[][] {
  const bos = tok.addBos && tok.bosTokenId !== null ? [tok.bosTokenId] : [];
  return texts.map((t, i) => {
    const ids = [...bos, ...tok.encode(t)];
    if (!ids.length) throw new Error(`${file} line ${prompts[i].line}: the prompt has no tokens`);
    if (ids.length >= context)
      throw new Error(`${file} line ${prompts[i].line}: the prompt is ${ids.length} tokens, but the model's context is ${context}: no token can follow it`);
    return ids;
  });
}

async function loadPolicy(src: PolicySource): Promise<CausalLM> {
  if (src.kind === 'model') return loadCausalLM(src.dir);
  const c = src.config;
  const latest = listCheckpoints(src.runDir)[0];
  if (!latest) throw new Error(`the run has no checkpoint in ${src.runDir} yet: evaluate it once it has trained (checkpoints are written at the end)`);
  const targets = c.loraTargets
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const lm = await loadCausalLM(c.model, {
    seed: c.seed,
    train: true,
    lora: c.finetune === 'lora' ? { rank: c.loraRank, alpha: c.loraAlpha, dropout: 0, ...(targets.length ? { targetModules: targets } : {}) } : undefined,
  });
  try {
    const ck = loadCheckpoint(latest.dir);
    const vars = lm.trainableVariables();
    if (ck.params.length !== vars.length) throw new Error(`${latest.dir}: ${ck.params.length} tensors, the model has ${vars.length} trainable ones`);
    ck.params.forEach((p, i) => vars[i].assign(tf.tensor(p.data, p.shape, 'float32')));
    return lm;
  } catch (err) {
    lm.dispose();
    throw err;
  }
}

/**
 * Generates a response per prompt with the policy (and the reference policy, for the win rate), scores them with
 * the reward and cost models, and summarises: Help, Harm, S.R., win rate, each with its standard error.
 */
export async function evaluatePolicy(
  spec: EvalJobSpec,
  engine: EvalEngine,
  io: EvalIo,
): Promise<{ summary: EvalSummary; responses: EvalResponseRow[]; step: number | null }> {
  const modelDir = spec.policy.kind === 'run' ? spec.policy.config.model : spec.policy.dir;
  const tok = await loadTokenizer(modelDir);
  const prompts = readEvalPrompts(spec.prompts, spec.samples ?? undefined);
  const option = spec.settings.promptFormat === 'auto' && spec.policy.kind === 'run' ? spec.policy.config.promptFormat : spec.settings.promptFormat;
  const promptTexts = prompts.map((p) => formatEvalPrompt(tok, p.text, option));
  const step = spec.policy.kind === 'run' ? (listCheckpoints(spec.policy.runDir)[0]?.step ?? null) : null;
  io.log(`${prompts.length} prompts from ${path.basename(spec.prompts)}; ${spec.policy.kind === 'run' ? `run checkpoint at step ${step}` : modelDir}`);

  const passes = spec.reference ? 2 : 1;
  const total = prompts.length * passes;
  let done = 0;
  const generateAll = async (lm: CausalLM): Promise<{ texts: string[]; tokensPerSecond: number }> => {
    const ids = tokenizePrompts(tok, prompts, promptTexts, spec.prompts, lm.spec.maxPositions);
    const texts: string[] = [];
    let tokens = 0;
    let seconds = 0;
    const chunk = spec.settings.batchSize;
    for (let s = 0; s < ids.length; s += chunk) {
      if (await io.cancelled()) throw new RunCancelled();
      // a chunk's seed is offset by its first prompt's index, so every prompt draws from a stream of its own
      const out = engine.generate(lm, tok, ids.slice(s, s + chunk), { ...spec.settings, seed: spec.settings.seed + s });
      texts.push(...out.texts);
      tokens += out.newTokens;
      seconds += out.seconds;
      done += Math.min(chunk, ids.length - s);
      io.progress(done, total);
    }
    return { texts, tokensPerSecond: seconds > 0 ? tokens / seconds : 0 };
  };

  const policy = await loadPolicy(spec.policy);
  let gen: { texts: string[]; tokensPerSecond: number };
  try {
    gen = await generateAll(policy);
  } finally {
    policy.dispose();
  }
  io.log(`policy responses generated at ${gen.tokensPerSecond.toFixed(1)} tokens/s`);
  let refTexts: string[] | null = null;
  if (spec.reference) {
    const ref = await loadCausalLM(spec.reference);
    try {
      refTexts = (await generateAll(ref)).texts;
    } finally {
      ref.dispose();
    }
    io.log(`reference responses generated (${spec.reference})`);
  }

  const full = (responses: string[]) => responses.map((r, i) => promptTexts[i] + r);
  const scoreWith = async (dir: string | null, sets: string[][]): Promise<number[][] | null> => {
    if (!dir) return null;
    if (await io.cancelled()) throw new RunCancelled();
    const scorer = await engine.openScorer(dir, tok);
    try {
      const out: number[][] = [];
      for (const texts of sets) out.push(await scorer.score(full(texts)));
      return out;
    } finally {
      scorer.dispose();
    }
  };
  const rewards = await scoreWith(spec.reward, refTexts ? [gen.texts, refTexts] : [gen.texts]);
  const costs = await scoreWith(spec.cost, [gen.texts]);

  const responses: EvalResponseRow[] = prompts.map((p, i) => ({
    index: i,
    prompt: p.text,
    response: gen.texts[i],
    reward: rewards ? rewards[0][i] : null,
    cost: costs ? costs[0][i] : null,
    refResponse: refTexts ? refTexts[i] : null,
    refReward: rewards && refTexts ? rewards[1][i] : null,
  }));
  return { summary: { ...summarizeEval(responses), tokensPerSecond: gen.tokensPerSecond }, responses, step };
}
