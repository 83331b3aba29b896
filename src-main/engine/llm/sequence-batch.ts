/**
 * Packs tokenized sequences into one right-padded batch: token ids, the attention mask, and the mask of the
 * positions whose next token is a response token (the only ones summed into a sequence log-prob).
 */
export interface TokenizedSequence {
  /** prompt tokens, then response tokens (EOS last unless truncated away) */
  ids: number[];
  promptLen: number;
  /** response tokens kept after truncation, EOS included */
  responseLen: number;
}

export interface SequenceBatch {
  rows: number;
  length: number;
  /** [rows × length] token ids, padding = padId */
  ids: Int32Array;
  /** [rows × length] 1 for real tokens, 0 for padding */
  attention: Float32Array;
  /** [rows × length] 1 at position t when token t+1 is a response token; the last column is always 0 */
  target: Float32Array;
  /** [rows × length] the token at t+1 (padding where there is none) */
  next: Int32Array;
  /** tokens in the batch that are not padding */
  tokens: number;
}

export function packSequences(seqs: readonly TokenizedSequence[], padId: number): SequenceBatch {
  const rows = seqs.length;
  const length = Math.max(1, ...seqs.map((s) => s.ids.length));
  const ids = new Int32Array(rows * length).fill(padId);
  const next = new Int32Array(rows * length).fill(padId);
  const attention = new Float32Array(rows * length);
  const target = new Float32Array(rows * length);
  let tokens = 0;
  seqs.forEach((s, r) => {
    const o = r * length;
    const n = s.ids.length;
    tokens += n;
    for (let t = 0; t < n; t++) {
      ids[o + t] = s.ids[t];
      attention[o + t] = 1;
      if (t + 1 < n) next[o + t] = s.ids[t + 1];
    }
    // Position t predicts token t+1; response tokens sit at [promptLen, promptLen + responseLen).
    for (let t = Math.max(0, s.promptLen - 1); t < s.promptLen + s.responseLen - 1 && t + 1 < n; t++) target[o + t] = 1;
  });
  return { rows, length, ids, attention, target, next, tokens };
}
