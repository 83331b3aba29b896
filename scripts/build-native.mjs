// Builds native/gemm (OpenBLAS's sgemm for the LLM trainer, ~3.7× tfjs WASM's matrix products per core) after
// `npm install`. It is optional: where OpenBLAS's headers or a compiler are missing it says so in one line and the
// lab trains with WASM's own matMul (each run's backend line says which). Never fails the install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native/gemm');
const say = (line) => process.stderr.write(`build-native: ${line}\n`);

const headerDirs = [
  '/usr/include',
  '/usr/include/x86_64-linux-gnu',
  '/usr/include/aarch64-linux-gnu',
  '/usr/include/openblas',
  '/usr/local/include',
  '/opt/homebrew/opt/openblas/include',
];
if (process.env.DPO_LAB_NATIVE_GEMM === '0') {
  say('skipped (DPO_LAB_NATIVE_GEMM=0)');
  process.exit(0);
}
if (!headerDirs.some((d) => fs.existsSync(path.join(d, 'cblas.h')))) {
  say("skipped: OpenBLAS's cblas.h not found (Debian/Ubuntu: apt-get install libopenblas-dev, then npm run build:native); LLM training uses WASM's matMul");
  process.exit(0);
}
// npm hands its own node-gyp to lifecycle scripts; outside npm, look for the one it bundles.
function bundledGyp() {
  const npm = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout?.trim();
  if (!npm) return '';
  // npm's bin is a link to <npm>/bin/npm-cli.js; node-gyp sits in <npm>/node_modules.
  return path.join(path.dirname(fs.realpathSync(npm)), '../node_modules/node-gyp/bin/node-gyp.js');
}
const gyp = process.env.npm_config_node_gyp ?? bundledGyp();
const args = [gyp, 'rebuild', '--directory', dir];
// N-API is the same in every Node ≥ 18, so any installed Node headers do (npm passes its nodedir setting itself).
if (!process.env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
if (!fs.existsSync(gyp)) {
  say(`skipped: node-gyp not found at ${gyp}; LLM training uses WASM's matMul`);
  process.exit(0);
}
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const lines = `${r.stderr}`.split('\n').filter((l) => l.trim());
  const why = lines.find((l) => /error|ERR!/i.test(l)) ?? lines.at(-1) ?? `exit ${r.status}`;
  say(`not built (${why.trim()}); LLM training uses WASM's matMul. Full log: npm run build:native`);
  process.exit(0);
}
say(`built ${path.relative(root, path.join(dir, 'build/Release/dpo_gemm.node'))}`);
