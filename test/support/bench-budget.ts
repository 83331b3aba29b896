/** A safety-tiny budget in which every stage runs (SFT, both scorers, each loss, the evaluations), each a step or two. */
export const TINY_BENCH_BUDGET = {
  sftExamples: 40,
  preferenceRows: 40,
  evalPrompts: 4,
  sftSteps: 2,
  sftBatch: 8,
  scorerSteps: 2,
  scorerBatch: 8,
  dpoSteps: 2,
  dpoBatch: 4,
  maxNewTokens: 4,
};
