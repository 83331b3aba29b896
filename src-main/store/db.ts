import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LabError } from '@shared/errors';
import { MIGRATIONS } from './migrations';
import { damagedMessage, isRetryableWriteFailure, storeError } from './failures';

export type Db = Database.Database;

// URI file names let a database on a read-only mount be opened as immutable (openReadOnly). better-sqlite3 reads
// this once, when its addon loads on the first `new Database`; only names starting with "file:" are affected.
process.env.SQLITE_USE_URI ??= '1';

/**
 * Opens (creating if needed) the lab database, in WAL mode, checks it (PRAGMA quick_check) and brings its schema up
 * to date. Opening writes nothing when nothing needs writing, so a lab on a full disk or a read-only file still opens
 * for reading. Failures are LabErrors naming the file ('disk_full', 'read_only', 'damaged'), or an Error that does.
 */
export function openDb(file: string): Db {
  const memory = file === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Db;
  try {
    db = connect(file, memory);
  } catch (err) {
    throw storeError(err, file) ?? new Error(`cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    checkIntegrity(db, file);
    if (!memory && db.pragma('journal_mode', { simple: true }) !== 'wal') {
      try {
        db.pragma('journal_mode = WAL');
      } catch (err) {
        // a full disk or a read-only file: stay in the current mode and let reads work
        if (!isRetryableWriteFailure(err)) throw err;
      }
    }
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof LabError) throw err;
    throw storeError(err, file) ?? new Error(`cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/** A connection that has read the file's header (SQLite opens lazily: a file it cannot use fails on first read). */
function connect(file: string, memory: boolean): Db {
  let db: Db | undefined;
  try {
    db = new Database(file);
    db.pragma('busy_timeout = 5000');
    db.pragma('schema_version');
    return db;
  } catch (err) {
    db?.close();
    const code = (err as { code?: string }).code ?? '';
    if (memory || !fs.existsSync(file) || !(code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY'))) throw err;
    return openReadOnly(file, err);
  }
}

/**
 * A database file that exists but cannot be opened for writing. On a read-only mount (or in a folder this user may
 * not write), a WAL database closed cleanly has no -shm file and none can be made, so SQLite refuses even to read it
 * unless told that nothing can change it (immutable=1), which is then true.
 */
function openReadOnly(file: string, first: unknown): Db {
  const readable = (name: string) => {
    const db = new Database(name, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('schema_version');
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  };
  try {
    return readable(file);
  } catch {
    // immutable is safe only while nothing can write the file: not writable by anyone here (a read-only mount, or
    // permissions), and no -wal/-shm, so no writer elsewhere has it open either
    let unwritable = false;
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch (err) {
      unwritable = ['EROFS', 'EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');
    }
    if (!unwritable || fs.existsSync(`${file}-wal`) || fs.existsSync(`${file}-shm`)) throw first;
    try {
      return readable(`${pathToFileURL(path.resolve(file)).href}?immutable=1`);
    } catch {
      throw first;
    }
  }
}

/** PRAGMA quick_check: a damaged file is refused at open, with its name and what to do, not met mid-run. */
function checkIntegrity(db: Db, file: string): void {
  const problems = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (!problems.length) return;
  const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
  throw new LabError('damaged', damagedMessage(file, `quick_check: ${problems.slice(0, 3).join('; ')}${more}`));
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration newer than the file's user_version, each in its own transaction. */
export function migrate(db: Db): number {
  const current = schemaVersion(db);
  const latest = MIGRATIONS.length;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this DPO Lab understands (${latest}); upgrade the app`);
  }
  for (let v = current; v < latest; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return latest - current;
}
