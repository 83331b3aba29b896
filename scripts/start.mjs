// `npm start`: build if needed, then launch the Electron app.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './ensure-built.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureBuilt();
// Find the binary the electron package installed, without require('electron'): in plain Node that starts a
// download (and prints its stack trace) when the binary is missing.
function electronBinaryPath() {
  try {
    const dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    const bin = path.join(dir, 'dist', rel);
    return fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const electronBinary = process.env.ELECTRON_OVERRIDE_DIST_PATH ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron') : electronBinaryPath();
if (!electronBinary) {
  process.stderr.write(
    [
      'DPO Lab cannot open its desktop window: the Electron binary is not installed (node_modules/electron/dist is',
      'missing; its download at `npm install` failed or was skipped, e.g. offline or behind a proxy).',
      'The same app runs in your browser: `npm run serve`, then open the URL it prints.',
      'To get the desktop app, reinstall Electron where GitHub is reachable: `rm -rf node_modules/electron && npm install`.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
const child = spawn(electronBinary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
