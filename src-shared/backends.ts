/** The tfjs backends a run can ask for; 'auto' picks CUDA, then libtensorflow, then WASM, then pure JS. */
export const BACKEND_PREFERENCES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export function isBackendPreference(s: string): s is BackendPreference {
  return (BACKEND_PREFERENCES as readonly string[]).includes(s);
}
