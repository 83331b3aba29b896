/**
 * Small real file systems for the storage-failure tests: a tmpfs of a few MB fills up as a laptop's disk does, and
 * can be remounted read-only. Mounting needs root (CI runs as root); elsewhere the tests that need it are skipped
 * with the reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Mounts a tmpfs of `size` (e.g. '8m') on `dir`; returns why it could not, or null when mounted. */
export function mountTmpfs(dir: string, size: string): string | null {
  if (process.platform !== 'linux') return `a tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs the tests as root)';
  fs.mkdirSync(dir, { recursive: true });
  const res = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (res.status !== 0) return `mount -t tmpfs failed: ${(res.stderr || res.error?.message || '').trim()}`;
  return null;
}

export function remountReadOnly(dir: string): void {
  const res = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`remount,ro ${dir} failed: ${res.stderr}`);
}

export function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}

/** Writes `file` until the file system has no byte left (ENOSPC); returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    for (const chunk of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          written += fs.writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}
