import { z } from 'zod';

/** `lab export-trl`: an LLM run as a TRL + Accelerate job folder. */
export const TrlExportInputSchema = z
  .object({
    id: z.number().int().positive(),
    out: z.string({ error: 'out: give a folder to write the job into' }).min(1, 'out: give a folder to write the job into').max(4096),
    overwrite: z.boolean().default(false),
  })
  .strict();

/** `lab import-trl`: a job folder (or its trainer_state.json) read back into a run of kind 'trl'. */
export const TrlImportInputSchema = z.object({ dir: z.string({ error: 'dir: give the job folder' }).min(1, 'dir: give the job folder').max(4096) }).strict();

export interface TrlExportResult {
  out: string;
  files: string[];
  /** the TRL release train.py targets (and requirements.txt pins) */
  trlVersion: string;
  /** false when the run's data or tokenizer could not be read at export; train.py then splits by the seed */
  splitRecorded: boolean;
}

export interface TrlImportResult {
  runId: number;
  created: boolean;
  /** steps added by this import (0 when nothing new was logged) */
  addedSteps: number;
  lastStep: number | null;
  trainerState: string;
}
