/**
 * What the LLM commands return: model and dataset inspection, sequence log-probs, model export. Inputs live in
 * contract.ts with the other commands.
 */

/** A local Hugging Face model folder as the Models view and `lab models` show it. */
export interface ModelInspection {
  path: string;
  modelType: 'gpt2' | 'llama' | 'qwen2';
  architecture: string;
  parameters: number;
  /** dtypes found on disk, e.g. ["BF16"] */
  dtypes: string[];
  vocabSize: number;
  contextLength: number;
  layers: number;
  hiddenSize: number;
  heads: number;
  kvHeads: number;
  tieWordEmbeddings: boolean;
  hasChatTemplate: boolean;
  eosToken: string | null;
  /** bytes of float32 weights in memory */
  weightBytes: number;
  /** rough training memory per backend, bytes, for LoRA and full fine-tuning at the given length */
  memoryEstimate: { lora: number; full: number; maxLength: number; batchSize: number };
  /** what a run may use of the WASM heap, bytes: runs whose estimate exceeds it are refused on WASM */
  wasmHeapCap: number;
}

export interface SkippedRowInfo {
  line: number;
  field?: string;
  reason: string;
}

export interface DatasetPreviewPair {
  line: number;
  prompt: string;
  chosen: string;
  rejected: string;
  chosenSafe?: boolean;
  rejectedSafe?: boolean;
  /** with a model: token counts as training sees them (response counts include EOS) */
  tokens?: { prompt: number; chosen: number; rejected: number; truncated: boolean; dropped: string | null };
}

export interface DatasetInspection {
  path: string;
  format: string;
  totalRows: number;
  pairs: number;
  /** every skipped row is counted; the first ones are listed */
  skippedCount: number;
  skipped: SkippedRowInfo[];
  preview: DatasetPreviewPair[];
  /** with a model: pairs whose prompt alone fills maxLength (dropped from training) */
  droppedCount?: number;
  promptFormat?: string;
}

export interface LogpsResult {
  /** one entry per pair in file order; null where the pair was dropped (its prompt fills maxLength) */
  logps: ({ chosen: number; rejected: number } | null)[];
  tokens: ({ chosen: number; rejected: number } | null)[];
  skipped: SkippedRowInfo[];
  dropped: { index: number; reason: string }[];
  promptFormat: string;
}

/** `lab score`: one score per {prompt, response} row, in file order, and the tokens each text became. */
export interface ScoreResult {
  scores: number[];
  tokens: number[];
}

export interface ModelExportResult {
  out: string;
  mode: 'merged' | 'adapter';
  step: number;
  files: string[];
}
