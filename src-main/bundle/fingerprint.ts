/**
 * Fingerprints of what an LLM run reads (its model folder and its data file): sha256 and size of each file, so a
 * rerun elsewhere can tell that it is about to train on the same bytes, or say which file differs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FileFingerprint, LlmFingerprints } from '@shared/bundle';

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fingerprintFile(file: string, shownAs = file): Promise<FileFingerprint> {
  const size = fs.statSync(file).size;
  return { path: shownAs, size, sha256: await sha256File(file) };
}

/** Every regular file under a model folder, by path relative to it, sorted (hidden files and folders skipped). */
function modelFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...modelFiles(dir, p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

export async function fingerprintLlm(config: { model: string; data: string }): Promise<LlmFingerprints> {
  const files: FileFingerprint[] = [];
  for (const rel of modelFiles(config.model)) files.push(await fingerprintFile(path.join(config.model, rel), rel));
  return { model: { path: config.model, files }, data: await fingerprintFile(config.data) };
}

/**
 * What differs between the fingerprints a run was bundled with and the files at the config's paths now; empty
 * when they are the same bytes. Each line names the file and how it differs.
 */
export async function fingerprintMismatches(expected: LlmFingerprints, config: { model: string; data: string }): Promise<string[]> {
  const out: string[] = [];
  if (!fs.existsSync(config.data)) out.push(`data file ${config.data} does not exist`);
  else {
    const now = await fingerprintFile(config.data);
    if (now.size !== expected.data.size || now.sha256 !== expected.data.sha256)
      out.push(
        `data file ${config.data} changed: ${now.size} bytes, sha256 ${now.sha256.slice(0, 12)}… (bundled: ${expected.data.size} bytes, ${expected.data.sha256.slice(0, 12)}…)`,
      );
  }
  if (!fs.existsSync(config.model) || !fs.statSync(config.model).isDirectory()) {
    out.push(`model folder ${config.model} does not exist`);
    return out;
  }
  for (const f of expected.model.files) {
    const file = path.join(config.model, f.path);
    if (!fs.existsSync(file)) {
      out.push(`model file ${file} is missing`);
      continue;
    }
    const now = await fingerprintFile(file, f.path);
    if (now.size !== f.size || now.sha256 !== f.sha256)
      out.push(`model file ${file} changed (sha256 ${now.sha256.slice(0, 12)}…, bundled ${f.sha256.slice(0, 12)}…)`);
  }
  return out;
}
