/**
 * tfjs as the engine uses it. tfjs-core alone registers no gradients, no chained ops (t.reshape()) and no
 * backend; the umbrella @tensorflow/tfjs did, along with layers, data and the converter, which the lab never
 * uses. Every engine file imports tf from here, so the side effects happen before any op runs.
 */
// Order matters: tfjs-core's main entry must load first, so that its Tensor class is the one tfjs registers
// globally; the generated bundle (scripts/bundle-tfjs-gradients.mjs, run after npm install) then patches that
// class with chained ops and fills the global gradient registry.
export * from '@tensorflow/tfjs-core';
import './generated/tfjs-gradients.cjs';
// The chained ops' type declarations (Tensor.reshape and friends), with no run-time import.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
// The pure-JS backend, the last fallback (the WASM one registers itself when backend.ts imports it).
import '@tensorflow/tfjs-backend-cpu';
