/** Preference data as the LLM loaders give it (the Datasets view and `lab dataset` show these). */
export const DATA_FORMATS = ['hh', 'saferlhf', 'generic'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
  /** PKU-SafeRLHF: whether each response is safe */
  chosenSafe?: boolean;
  rejectedSafe?: boolean;
  /** 1-based line (JSONL, CSV data row) or row number (Parquet) in the file */
  line: number;
}

export interface SkippedRow {
  line: number;
  field?: string;
  reason: string;
}

export interface PreferenceData {
  file: string;
  format: DataFormat;
  pairs: PreferencePair[];
  skipped: SkippedRow[];
  totalRows: number;
}
