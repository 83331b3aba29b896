import fs from 'node:fs';
import path from 'node:path';
import { readSafetensorsFile, writeSafetensors } from './safetensors';
import type { AdamWState } from './adamw';

export interface CheckpointState {
  step: number;
  /** trainable tensors in the order of the model's trainableVariables() */
  params: { shape: number[]; data: Float32Array }[];
  optimizer: AdamWState;
}

const NAME = /^checkpoint-(\d+)$/;

/** Checkpoint folders of a run, newest first. A folder without its state.json (a write cut short) is not one. */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  if (!fs.existsSync(runDir)) return [];
  return fs
    .readdirSync(runDir)
    .map((d) => ({ m: NAME.exec(d), dir: path.join(runDir, d) }))
    .filter((x): x is { m: RegExpExecArray; dir: string } => !!x.m && fs.existsSync(path.join(x.dir, 'state.json')))
    .map((x) => ({ step: Number(x.m[1]), dir: x.dir }))
    .sort((a, b) => b.step - a.step);
}

/**
 * Writes a checkpoint atomically (into a temp folder renamed at the end, so a crash mid-write leaves the previous
 * one as the newest) and keeps only the newest `keep`.
 */
export function saveCheckpoint(runDir: string, s: CheckpointState, keep = 2): string {
  fs.mkdirSync(runDir, { recursive: true });
  const final = path.join(runDir, `checkpoint-${s.step}`);
  const tmp = `${final}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const params: Record<string, { shape: number[]; data: Float32Array }> = {};
  s.params.forEach((p, i) => (params[`param.${String(i).padStart(5, '0')}`] = p));
  writeSafetensors(path.join(tmp, 'params.safetensors'), params);
  const opt: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(s.optimizer.m)) opt[`m.${k}`] = v;
  for (const [k, v] of Object.entries(s.optimizer.v)) opt[`v.${k}`] = v;
  writeSafetensors(path.join(tmp, 'optimizer.safetensors'), opt);
  fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify({ step: s.step, optimizerStep: s.optimizer.step, params: s.params.length }));
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  for (const old of listCheckpoints(runDir).slice(keep)) fs.rmSync(old.dir, { recursive: true, force: true });
  return final;
}

export function loadCheckpoint(dir: string): CheckpointState {
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as { step: number; optimizerStep: number; params: number };
  const params = readSafetensorsFile(path.join(dir, 'params.safetensors'));
  const opt = readSafetensorsFile(path.join(dir, 'optimizer.safetensors'));
  const ordered = [...params.keys()].sort().map((k) => params.get(k)!);
  if (ordered.length !== state.params) throw new Error(`${dir}: params.safetensors has ${ordered.length} tensors, state.json says ${state.params}`);
  const m: AdamWState['m'] = {};
  const v: AdamWState['v'] = {};
  for (const [k, t] of opt) {
    if (k.startsWith('m.')) m[k.slice(2)] = t;
    else if (k.startsWith('v.')) v[k.slice(2)] = t;
  }
  return { step: state.step, params: ordered, optimizer: { step: state.optimizerStep, m, v } };
}
