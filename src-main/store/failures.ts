/**
 * Storage failures (a full disk, a read-only file, a damaged file) said in words that name the database file and
 * what to do, instead of SQLite's "database or disk is full" with a stack trace.
 */
import fs from 'node:fs';
import { LabError } from '@shared/errors';

export type StoreFailureKind = 'disk_full' | 'read_only' | 'damaged';

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Which storage failure a thrown SQLite or file-system error is, or null when it is something else. */
export function storeFailureKind(err: unknown): StoreFailureKind | null {
  const code = codeOf(err);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'read_only';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'damaged';
  return null;
}

/**
 * Whether a failed write may succeed later with nothing changed in the lab (space freed, the file made writable,
 * another writer done): such a write is kept in memory and retried rather than lost or thrown at the caller.
 */
export function isRetryableWriteFailure(err: unknown): boolean {
  const kind = storeFailureKind(err);
  if (kind === 'disk_full' || kind === 'read_only') return true;
  const code = codeOf(err);
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_IOERR');
}

/** Why a database file cannot be written, in words: a read-only file system or the file's permissions. */
export function whyReadOnly(file: string): string {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return 'it was opened read-only';
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EROFS') return 'it is on a read-only file system';
    if (code === 'EACCES' || code === 'EPERM') return 'this user may not write it';
    return 'it cannot be written';
  }
}

export function diskFullMessage(file: string): string {
  return `disk full: cannot write to the lab database ${file}; free some space (everything saved before this is kept)`;
}

export function readOnlyMessage(file: string): string {
  return `the lab database ${file} is read-only (${whyReadOnly(file)}): runs can be viewed but not changed; make the file and its folder writable, or pass --db with a writable copy`;
}

export function damagedMessage(file: string, detail: string): string {
  return (
    `the lab database ${file} is damaged (${detail}); move it aside and start again with a new file (or pass --db with another one); ` +
    `\`sqlite3 "${file}" .recover > rescued.sql\` can rescue most of its rows`
  );
}

/** A LabError naming the file for a storage failure, or null when `err` is not one. */
export function storeError(err: unknown, file: string): LabError | null {
  switch (storeFailureKind(err)) {
    case 'disk_full':
      return new LabError('disk_full', diskFullMessage(file));
    case 'read_only':
      return new LabError('read_only', readOnlyMessage(file));
    case 'damaged':
      if (codeOf(err) === 'SQLITE_NOTADB')
        return new LabError(
          'damaged',
          `${file} is not a DPO Lab database (SQLite: ${(err as Error).message}); pass --db with the lab's file, or move this one aside`,
        );
      return new LabError('damaged', damagedMessage(file, (err as Error).message));
    default:
      return null;
  }
}
