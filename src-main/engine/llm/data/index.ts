import path from 'node:path';
import type { DataFormat, PreferenceData, PreferencePair, SkippedRow } from '@shared/llm-data';
import { readRows, MAX_DATA_FILE_BYTES } from './rows';
import { detectFormat, genericRow, hhRow, safeRlhfRow, type RowResult } from './formats';

export { MAX_DATA_FILE_BYTES } from './rows';

export interface LoadDataOptions {
  format?: 'auto' | DataFormat;
  /** PKU-SafeRLHF: helpfulness ('better') or harmlessness ('safer') pairs */
  preference?: 'better' | 'safer';
  maxBytes?: number;
  /** stop at the first bad row instead of skipping it */
  strict?: boolean;
}

/**
 * Reads a preference file (HH-RLHF, PKU-SafeRLHF or generic; JSONL(.gz), CSV or Parquet) into pairs. Bad rows are
 * skipped and reported with their line and field; the format is detected from the first usable row unless given.
 */
export async function loadPreferenceFile(file: string, o: LoadDataOptions = {}): Promise<PreferenceData> {
  const abs = path.resolve(file);
  const pairs: PreferencePair[] = [];
  const skipped: SkippedRow[] = [];
  let format: DataFormat | null = o.format && o.format !== 'auto' ? o.format : null;
  let totalRows = 0;
  const read = (row: Record<string, unknown>): RowResult =>
    format === 'hh' ? hhRow(row) : format === 'saferlhf' ? safeRlhfRow(row, o.preference ?? 'better') : genericRow(row);
  for await (const r of readRows(abs, o.maxBytes ?? MAX_DATA_FILE_BYTES)) {
    totalRows++;
    let res: RowResult;
    if ('error' in r) res = { skip: { reason: r.error } };
    else {
      format ??= detectFormat(r.value);
      res = format
        ? read(r.value)
        : {
            skip: {
              reason: `fields ${Object.keys(r.value).slice(0, 6).join(', ')} fit no known format (prompt/chosen/rejected, HH chosen/rejected, PKU-SafeRLHF)`,
            },
          };
    }
    if ('skip' in res) {
      if (o.strict) throw new Error(`${abs}:${r.line}: ${res.skip.reason}`);
      skipped.push({ line: r.line, ...res.skip });
    } else pairs.push({ ...res.pair, line: r.line });
  }
  if (!format) throw new Error(`${abs}: no usable rows (${totalRows} rows read${skipped[0] ? `; line ${skipped[0].line}: ${skipped[0].reason}` : ''})`);
  return { file: abs, format, pairs, skipped, totalRows };
}
