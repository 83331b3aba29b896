/** The safety-tiny starting model: the task's word-level tokenizer and a randomly initialised tiny Llama. */
import { taskVocabulary } from './safety-task';
import { writeWordTokenizer } from './word-tokenizer';
import { writeScratchModel } from './scratch-model';

export interface SafetyTinyModelSize {
  hidden: number;
  layers: number;
  heads: number;
  /** positions the model can attend over (prompt + response + EOS) */
  maxPositions: number;
}

/** Small enough for a 2-core CPU to train in minutes, big enough to learn the task's item lists and format. */
export const SAFETY_TINY_SIZE: SafetyTinyModelSize = { hidden: 64, layers: 2, heads: 4, maxPositions: 48 };

/** Writes tokenizer.json, tokenizer_config.json, config.json and model.safetensors into `dir`. */
export function writeSafetyTinyBaseModel(dir: string, seed: number, size: SafetyTinyModelSize = SAFETY_TINY_SIZE): { vocabSize: number; parameters: number } {
  const tok = writeWordTokenizer(dir, taskVocabulary());
  const { parameters } = writeScratchModel(dir, {
    arch: 'llama',
    vocabSize: tok.vocabSize,
    hidden: size.hidden,
    layers: size.layers,
    heads: size.heads,
    maxPositions: size.maxPositions,
    seed,
    bosId: tok.bosId,
    eosId: tok.eosId,
    padId: tok.padId,
  });
  return { vocabSize: tok.vocabSize, parameters };
}
