import * as tf from './tf';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

import type { BackendPreference } from '@shared/backends';
export { BACKEND_PREFERENCES, type BackendPreference } from '@shared/backends';

export interface BackendInfo {
  /** tfjs backend name actually in use: 'tensorflow', 'wasm' or 'cpu' */
  name: string;
  /** what a researcher reads in the top bar, e.g. "wasm (SIMD, 1 thread) — tfjs-node-gpu not installed" */
  label: string;
  /** one line per backend tried before this one, and why it was not used */
  notes: string[];
  versions: Record<string, string>;
}

const resolveFromHere = createRequire(import.meta.url).resolve;

function hasCudaDevice(): boolean {
  return fs.existsSync('/dev/nvidia0') || fs.existsSync('/proc/driver/nvidia/version');
}

/** Whether an optional tfjs-node package is there, and with its compiled binding (lib/napi-vN/tfjs_binding.node). */
function nativeBindingState(pkg: string): 'absent' | 'no-binding' | 'present' {
  let dir: string;
  try {
    dir = path.dirname(resolveFromHere(`${pkg}/package.json`));
  } catch {
    return 'absent';
  }
  const lib = path.join(dir, 'lib');
  const found = fs.existsSync(lib) && fs.readdirSync(lib).some((d) => d.startsWith('napi-v') && fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  return found ? 'present' : 'no-binding';
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  const name = pkg.replace('@tensorflow/', '');
  // Importing a tfjs-node whose install could not download libtensorflow costs ~0.8 s per worker before it
  // fails; its binding file tells the same thing at once.
  const binding = nativeBindingState(pkg);
  if (binding === 'absent') return `${name} not installed`;
  if (binding === 'no-binding') return `${name} installed without its native binding (its libtensorflow download failed)`;
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    const spec: string = pkg;
    await import(spec);
    if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but the 'tensorflow' backend did not start`;
    return null;
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    if (/Cannot find (module|package)/.test(msg)) return `${pkg.replace('@tensorflow/', '')} not installed`;
    return `${pkg.replace('@tensorflow/', '')} failed to load: ${msg.split('\n')[0]}`;
  }
}

async function tryWasm(): Promise<string | null> {
  try {
    const dist = path.join(path.dirname(resolveFromHere('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    // In the packaged app the .wasm files live unpacked beside app.asar (electron-builder.yml asarUnpack).
    const dir = dist.replace(/([\\/])app\.asar(?=[\\/])/, '$1app.asar.unpacked') + path.sep;
    setWasmPaths(dir);
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) return 'wasm backend did not start';
    return null;
  } catch (err) {
    return `wasm failed: ${(err as Error).message}`;
  }
}

/**
 * Picks the tfjs backend: CUDA (tfjs-node-gpu) where a GPU is present, else libtensorflow (tfjs-node), else
 * WASM, else pure JS. `preference` forces one; the notes say why each skipped one was skipped.
 */
// Without libtensorflow, WASM wins even at the synthetic lab's tiny sizes (npm run bench: ~1.4× cpu for one run,
// ~6× for a batched sweep), so it is the automatic fallback.
export async function initBackend(preference: BackendPreference = 'auto', autoFallback: 'wasm' | 'cpu' = 'wasm'): Promise<BackendInfo> {
  // PROD silences tfjs's console advice (which would land in the CLI's --json output) and skips debug checks.
  tf.env().set('PROD', true);
  const notes: string[] = [];
  const order: BackendPreference[] =
    preference === 'auto'
      ? [...(hasCudaDevice() ? (['tensorflow-gpu'] as const) : []), 'tensorflow', autoFallback, autoFallback === 'cpu' ? 'wasm' : 'cpu']
      : [preference];
  if (preference === 'auto' && !hasCudaDevice()) notes.push('no CUDA GPU found');
  for (const choice of order) {
    let failure: string | null;
    if (choice === 'tensorflow-gpu') failure = await tryNative('@tensorflow/tfjs-node-gpu');
    else if (choice === 'tensorflow') failure = await tryNative('@tensorflow/tfjs-node');
    else if (choice === 'wasm') failure = await tryWasm();
    else failure = (await tf.setBackend('cpu')) ? null : 'cpu backend did not start';
    if (failure === null) return describe(choice, notes);
    notes.push(failure);
  }
  throw new Error(`no tfjs backend could start: ${notes.join('; ')}`);
}

function describe(choice: BackendPreference, notes: string[]): BackendInfo {
  const versions: Record<string, string> = { tfjs: tf.version_core, node: process.versions.node };
  if (process.versions.electron) versions.electron = process.versions.electron;
  let label: string;
  if (choice === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
    label = `wasm (${simd}, 1 thread)`;
  } else if (choice === 'cpu') label = 'cpu (pure JS)';
  else label = choice === 'tensorflow-gpu' ? 'tensorflow (CUDA)' : 'tensorflow (libtensorflow CPU)';
  const why = notes.filter((n) => n !== 'no CUDA GPU found' || choice !== 'cpu');
  return { name: tf.getBackend(), label: why.length ? `${label} — ${why.join(', ')}` : label, notes, versions };
}
