import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp folder per test file; real files, removed at the end. */
export function tempDir(prefix = 'dpo-lab-test-'): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
