// Builds out/ (electron-vite build) when it is missing or older than the sources; a no-op otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = ['out/main/index.js', 'out/main/cli.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'];

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

export function ensureBuilt() {
  const built = outputs.map((o) => path.join(root, o));
  const oldestOut = built.every((f) => fs.existsSync(f)) ? Math.min(...built.map((f) => fs.statSync(f).mtimeMs)) : 0;
  const sources = Math.max(
    newest(path.join(root, 'src-main')),
    newest(path.join(root, 'src-renderer')),
    fs.statSync(path.join(root, 'electron.vite.config.ts')).mtimeMs,
  );
  if (oldestOut > sources) return;
  process.stderr.write('building DPO Lab (electron-vite build)…\n');
  const bin = path.join(root, 'node_modules', '.bin', 'electron-vite');
  const res = spawnSync(bin, ['build'], { cwd: root, stdio: ['ignore', process.stderr, 'inherit'] });
  if (res.status !== 0) {
    process.stderr.write('build failed\n');
    process.exit(res.status ?? 1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureBuilt();
