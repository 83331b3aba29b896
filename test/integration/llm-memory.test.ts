/**
 * A run whose memory estimate is more than a WASM run may use is refused before any training, with the estimate
 * and the bound in the message; the estimate itself puts GPT-2 small at 2×512 tokens over it and a small model under.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tempDir } from '../unit/tmp';
import { writeTinyModel } from '../support/tiny-models';
import { estimateTrainingBytes, usesCheckpointing, WASM_USABLE_BYTES } from '../../src-main/engine/llm/memory';
import type { ModelSpec } from '../../src-shared/llm-model';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HH = path.join(ROOT, 'test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const model = tmp.file('tiny-gpt2');
beforeAll(() => {
  writeTinyModel(model, { arch: 'gpt2', seed: 3, maxPositions: 64 });
});

function gpt2(layers: number, d: number): ModelSpec {
  return {
    modelType: 'gpt2',
    vocabSize: 50257,
    hiddenSize: d,
    numLayers: layers,
    numHeads: d / 64,
    numKvHeads: d / 64,
    headDim: 64,
    intermediateSize: 4 * d,
    maxPositions: 1024,
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    tieWordEmbeddings: true,
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    activation: 'gelu_new',
    bosTokenId: null,
    eosTokenId: null,
  };
}

describe('LLM memory bound on WASM', () => {
  it('estimates GPT-2 small at 2×512 tokens over the usable heap unless it checkpoints activations, which auto then does; 4 layers × 256 at 2×128 under', () => {
    const small = { trainable: 300_000, batchSize: 1, maxLength: 512 };
    expect(estimateTrainingBytes(gpt2(12, 768), small)).toBeGreaterThan(WASM_USABLE_BYTES);
    expect(estimateTrainingBytes(gpt2(12, 768), { ...small, checkpoint: true })).toBeLessThan(WASM_USABLE_BYTES);
    expect(usesCheckpointing('auto', gpt2(12, 768), small)).toBe(true);
    expect(usesCheckpointing('off', gpt2(12, 768), small)).toBe(false);
    const tiny = { trainable: 50_000, batchSize: 1, maxLength: 128 };
    expect(estimateTrainingBytes(gpt2(4, 256), tiny)).toBeLessThan(WASM_USABLE_BYTES / 4);
    expect(usesCheckpointing('auto', gpt2(4, 256), tiny)).toBe(false);
    expect(usesCheckpointing('on', gpt2(4, 256), tiny)).toBe(true);
  });

  it('refuses a run that would not fit, naming the estimate and the bound, before the reference pass', () => {
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src-main/cli/index.ts',
        '--db',
        tmp.file('mem.db'),
        '--backend',
        'wasm',
        'run',
        'llm',
        '--model',
        model,
        '--data',
        HH,
        '--max-length',
        '32768',
        '--max-pairs',
        '8',
        '--steps',
        '2',
        '--json',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 180_000 },
    );
    expect(res.status, res.stderr).toBe(1);
    const out = JSON.parse(res.stdout) as { status: string; error: string };
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/needs about \d+ MB, more than the 3072 MB a run may use of the WASM backend's 4096 MB heap/);
  });
});
