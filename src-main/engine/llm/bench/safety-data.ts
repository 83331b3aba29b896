/** The safety-tiny data sets (see safety-task.ts for the task), labelled by the oracle. */
import { Rng } from '../../synthetic/rng';
import type { SftExample } from '../sft';
import { oracleHarm, oracleHelp } from './safety-oracle';
import { sampleRequest, SFT_COMPLY_RATE, writeResponse, type ResponseKind, type TaskRequest } from './safety-task';

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

function sftKind(rng: Rng, r: TaskRequest): ResponseKind {
  if (r.harmful) return rng.next() < SFT_COMPLY_RATE[r.topic] ? 'correct' : 'refuse';
  const u = rng.next();
  // mostly right, some near misses, so helpfulness varies within the SFT model's repertoire too
  return u < 0.85 ? 'correct' : u < 0.9 ? 'short' : u < 0.95 ? 'wrong-format' : 'wrong-item';
}

const PAIR_KINDS: readonly ResponseKind[] = ['correct', 'correct', 'short', 'wrong-item', 'wrong-format', 'refuse'];

export type { SftExample } from '../sft';

/** A PKU-SafeRLHF row (the loaders' `saferlhf` format), labelled by the oracle. */
export interface SafeRlhfRow {
  prompt: string;
  response_0: string;
  response_1: string;
  better_response_id: 0 | 1;
  safer_response_id: 0 | 1;
  is_response_0_safe: boolean;
  is_response_1_safe: boolean;
}

/** A generic preference row (the loaders' `generic` format); the prompt is the model's full input. */
export interface GenericPair {
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface SafetyTinyData {
  /** prompt (the model's input) and the response to imitate */
  sft: SftExample[];
  /** SafeRLHF rows: helpfulness pairs (better) for the reward model, safety pairs and labels for the cost model */
  preference: SafeRlhfRow[];
  /** DPO pairs: the safer response chosen; between two safe or two unsafe responses, the more helpful one */
  dpo: GenericPair[];
  /** held-out requests for evaluation (prompt = the model's input) */
  evalPrompts: TaskRequest[];
}

export interface SafetyTinyOptions {
  seed: number;
  sftExamples?: number;
  preferenceRows?: number;
  evalPrompts?: number;
  /** share of harmful requests in SFT and preference data */
  harmfulFraction?: number;
  /** share of harmful requests among eval prompts (PKU-SafeRLHF's eval prompts are mostly risky ones) */
  evalHarmfulFraction?: number;
}

/**
 * The task's data, a pure function of the options. The oracle labels the preference rows, so `better` is by
 * helpfulness (ties dropped) and `safer` by cost (ties broken by helpfulness, then at random), as in PKU-SafeRLHF.
 */
export function generateSafetyTiny(o: SafetyTinyOptions): SafetyTinyData {
  const sftRng = new Rng(o.seed, 'safety-tiny-sft');
  const prefRng = new Rng(o.seed, 'safety-tiny-pref');
  const evalRng = new Rng(o.seed, 'safety-tiny-eval');
  const hf = o.harmfulFraction ?? 0.4;
  const sft: SftExample[] = [];
  for (let i = 0; i < (o.sftExamples ?? 3000); i++) {
    const r = sampleRequest(sftRng, hf);
    sft.push({ prompt: r.prompt, response: writeResponse(sftRng, r, sftKind(sftRng, r)) });
  }
  const preference: SafeRlhfRow[] = [];
  const dpo: GenericPair[] = [];
  let guard = 0;
  const want = o.preferenceRows ?? 2000;
  while (preference.length < want && guard++ < want * 20) {
    const r = sampleRequest(prefRng, hf);
    const a = writeResponse(prefRng, r, pick(prefRng, PAIR_KINDS));
    const b = writeResponse(prefRng, r, pick(prefRng, PAIR_KINDS));
    if (a === b) continue;
    const [ha, hb] = [oracleHelp(r.text, a), oracleHelp(r.text, b)];
    const [ca, cb] = [oracleHarm(r.text, a), oracleHarm(r.text, b)];
    if (ha === hb) continue; // PKU-SafeRLHF always names a better response; ties carry no helpfulness signal
    const better: 0 | 1 = ha > hb ? 0 : 1;
    const safer: 0 | 1 = ca !== cb ? (ca < cb ? 0 : 1) : better;
    preference.push({
      prompt: r.text,
      response_0: a,
      response_1: b,
      better_response_id: better,
      safer_response_id: safer,
      is_response_0_safe: ca <= 0,
      is_response_1_safe: cb <= 0,
    });
    const aFirst = ca <= 0 !== cb <= 0 ? ca <= 0 : ha > hb;
    dpo.push({ prompt: r.prompt, chosen: aFirst ? a : b, rejected: aFirst ? b : a });
  }
  const evalPrompts: TaskRequest[] = [];
  for (let i = 0; i < (o.evalPrompts ?? 200); i++) evalPrompts.push(sampleRequest(evalRng, o.evalHarmfulFraction ?? 0.6));
  return { sft, preference, dpo, evalPrompts };
}
