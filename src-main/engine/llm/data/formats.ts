import type { DataFormat, PreferencePair, SkippedRow } from '@shared/llm-data';

/** One row read into a pair, or why it was skipped (naming the field). */
export type RowResult = { pair: Omit<PreferencePair, 'line'> } | { skip: Omit<SkippedRow, 'line'> };

const ASSISTANT = '\n\nAssistant:';

function str(row: Record<string, unknown>, field: string): string | { skip: Omit<SkippedRow, 'line'> } {
  const v = row[field];
  if (v === undefined || v === null) return { skip: { field, reason: `missing field "${field}"` } };
  if (typeof v !== 'string') return { skip: { field, reason: `field "${field}" is not text` } };
  return v;
}

function checkResponses(prompt: string, chosen: string, rejected: string, names: [string, string]): RowResult {
  if (!chosen.trim()) return { skip: { field: names[0], reason: 'empty response' } };
  if (!rejected.trim()) return { skip: { field: names[1], reason: 'empty response' } };
  if (chosen === rejected) return { skip: { field: names[1], reason: 'chosen and rejected responses are identical' } };
  return { pair: { prompt, chosen, rejected } };
}

/** Where HH's prompt ends: through the last "\n\nAssistant:" of the transcript (as TRL's extract_anthropic_prompt). */
function hhSplit(text: string): { prompt: string; response: string } | null {
  const i = text.lastIndexOf(ASSISTANT);
  if (i < 0) return null;
  return { prompt: text.slice(0, i + ASSISTANT.length), response: text.slice(i + ASSISTANT.length) };
}

/** Anthropic HH-RLHF: {chosen, rejected} full transcripts sharing everything up to the last Assistant turn. */
export function hhRow(row: Record<string, unknown>): RowResult {
  const chosen = str(row, 'chosen');
  if (typeof chosen !== 'string') return chosen;
  const rejected = str(row, 'rejected');
  if (typeof rejected !== 'string') return rejected;
  const c = hhSplit(chosen);
  if (!c) return { skip: { field: 'chosen', reason: 'no "\\n\\nAssistant:" turn in the transcript' } };
  const r = hhSplit(rejected);
  if (!r) return { skip: { field: 'rejected', reason: 'no "\\n\\nAssistant:" turn in the transcript' } };
  if (c.prompt !== r.prompt) return { skip: { field: 'rejected', reason: 'chosen and rejected transcripts have different prompts' } };
  return checkResponses(c.prompt, c.response, r.response, ['chosen', 'rejected']);
}

/** The prompt format of PKU-SafeRLHF (safe-rlhf's PROMPT_BEGIN + PROMPT_USER + PROMPT_ASSISTANT). */
export const SAFE_RLHF_PROMPT = (prompt: string) => `BEGINNING OF CONVERSATION: USER: ${prompt} ASSISTANT:`;

function flag(row: Record<string, unknown>, field: string): boolean | { skip: Omit<SkippedRow, 'line'> } {
  const v = row[field];
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1 || v === 0n || v === 1n) return Number(v) === 1;
  if (v === 'true' || v === 'false' || v === 'True' || v === 'False') return v.toLowerCase() === 'true';
  return { skip: { field, reason: v === undefined || v === null ? `missing field "${field}"` : `field "${field}" is not true/false` } };
}

/** PKU-SafeRLHF: two responses, which is better (helpfulness) and which is safer, and a safety label for each. */
export function safeRlhfRow(row: Record<string, unknown>, preference: 'better' | 'safer'): RowResult {
  const prompt = str(row, 'prompt');
  if (typeof prompt !== 'string') return prompt;
  const r0 = str(row, 'response_0');
  if (typeof r0 !== 'string') return r0;
  const r1 = str(row, 'response_1');
  if (typeof r1 !== 'string') return r1;
  const idField = preference === 'better' ? 'better_response_id' : 'safer_response_id';
  const id = Number(row[idField]);
  if (id !== 0 && id !== 1) return { skip: { field: idField, reason: `field "${idField}" must be 0 or 1` } };
  const s0 = flag(row, 'is_response_0_safe');
  if (typeof s0 !== 'boolean') return s0;
  const s1 = flag(row, 'is_response_1_safe');
  if (typeof s1 !== 'boolean') return s1;
  const [chosen, rejected, cs, rs] = id === 0 ? [r0, r1, s0, s1] : [r1, r0, s1, s0];
  const res = checkResponses(SAFE_RLHF_PROMPT(prompt), chosen, rejected, id === 0 ? ['response_0', 'response_1'] : ['response_1', 'response_0']);
  return 'pair' in res ? { pair: { ...res.pair, chosenSafe: cs, rejectedSafe: rs } } : res;
}

/** Any file with prompt, chosen and rejected text columns. */
export function genericRow(row: Record<string, unknown>): RowResult {
  const prompt = str(row, 'prompt');
  if (typeof prompt !== 'string') return prompt;
  const chosen = str(row, 'chosen');
  if (typeof chosen !== 'string') return chosen;
  const rejected = str(row, 'rejected');
  if (typeof rejected !== 'string') return rejected;
  return checkResponses(prompt, chosen, rejected, ['chosen', 'rejected']);
}

/** The format a row's fields say it is, or null when they fit none. */
export function detectFormat(row: Record<string, unknown>): DataFormat | null {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(row, k);
  if (has('response_0') && has('response_1')) return 'saferlhf';
  if (has('prompt') && has('chosen') && has('rejected')) return 'generic';
  if (has('chosen') && has('rejected')) return 'hh';
  return null;
}
