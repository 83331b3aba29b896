import fs from 'node:fs';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/** One record of a data file, before any format reads it: an object, or why the line could not be one. */
export type RawRow = { line: number; value: Record<string, unknown> } | { line: number; error: string };

/** Refused before reading: a preference file this large would not fit a laptop's memory once tokenized. */
export const MAX_DATA_FILE_BYTES = 2 * 1024 ** 3;

export function fileKind(file: string): 'jsonl' | 'csv' | 'parquet' {
  const f = file.toLowerCase().replace(/\.gz$/, '');
  if (f.endsWith('.parquet')) return 'parquet';
  if (f.endsWith('.csv')) return 'csv';
  return 'jsonl';
}

function input(file: string): NodeJS.ReadableStream {
  const raw = fs.createReadStream(file);
  return file.toLowerCase().endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
}

/** Where a CSV record starts: the line it ends on, less the line breaks inside it (quoted fields, skipped blank lines before it). */
const csvStartLine = (endLine: number, raw: string) =>
  endLine -
  (raw
    .replace(/^(\r?\n)+/, '')
    .replace(/\r?\n$/, '')
    .match(/\n/g)?.length ?? 0);

/**
 * CSV with a header row; line numbers count the header as line 1. A record whose field count differs from the
 * header's is reported and skipped by the lab itself: csv-parse would stop the file there and lose the rows it had
 * buffered, so column counts are relaxed in the parser and checked here.
 */
async function* csvRows(file: string): AsyncGenerator<RawRow> {
  const parser = input(file).pipe(parseCsv({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true, raw: true }));
  let header: string[] | null = null;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      const line = csvStartLine(rec.info.lines, rec.raw);
      if (!header) header = rec.record;
      else if (rec.record.length !== header.length) yield { line, error: `CSV: ${rec.record.length} fields where the header has ${header.length}` };
      else yield { line, value: Object.fromEntries(header.map((name, i) => [name, rec.record[i]])) };
    }
  } catch (err) {
    const e = err as Error & { lines?: number };
    yield { line: e.lines ?? 0, error: `CSV: ${e.message}` };
  }
}

/** The file's records in order: JSON Lines (.jsonl/.json, optionally .gz), CSV with a header row, or Parquet. */
export async function* readRows(file: string, maxBytes = MAX_DATA_FILE_BYTES): AsyncGenerator<RawRow> {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw new Error(`${file}: no such file`);
  }
  if (size > maxBytes)
    throw new Error(`${file}: ${(size / 1024 ** 2).toFixed(0)} MB is more than the ${(maxBytes / 1024 ** 2).toFixed(0)} MB limit for a preference file`);
  const kind = fileKind(file);
  if (kind === 'parquet') {
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({ file: await asyncBufferFromFile(file), compressors })) as Record<string, unknown>[];
    } catch (err) {
      throw new Error(`${file}: not a Parquet file the lab can read (${(err as Error).message})`, { cause: err });
    }
    for (let i = 0; i < rows.length; i++) yield { line: i + 1, value: rows[i] };
    return;
  }
  if (kind === 'csv') {
    yield* csvRows(file);
    return;
  }
  const rl = readline.createInterface({ input: input(file), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (let text of rl) {
      line++;
      if (line === 1) text = text.replace(/^\uFEFF/, '');
      if (!text.trim()) continue;
      try {
        const v = JSON.parse(text) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) yield { line, error: 'not a JSON object' };
        else yield { line, value: v as Record<string, unknown> };
      } catch (err) {
        yield { line, error: `bad JSON (${(err as Error).message})` };
      }
    }
  } catch (err) {
    throw new Error(`${file}: could not be read past line ${line} (${(err as Error).message})`, { cause: err });
  }
}
