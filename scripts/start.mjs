// `npm start`: build if needed, then launch the Electron app.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './ensure-built.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureBuilt();
let electronBinary;
try {
  // In plain Node, the electron package resolves to the path of its binary (downloading it on first use).
  electronBinary = createRequire(import.meta.url)('electron');
} catch (err) {
  process.stderr.write(
    `Cannot start Electron: ${err.message}\n` + 'The Electron binary could not be found or downloaded. The same app runs in your browser: npm run serve\n',
  );
  process.exit(1);
}
const child = spawn(electronBinary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
