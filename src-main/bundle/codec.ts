/**
 * The bundle file on disk: gzip of one JSON object (src-shared/bundle.ts). Reading checks, in order, that the
 * file is gzip, that it is JSON, that it is a bundle of a version this lab reads, that its content matches its
 * hash (a file edited or damaged after export), and only then the fields; every message names the file.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  BundleContentSchema,
  BundleHeaderSchema,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_JSON_BYTES,
  type BundleContent,
} from '@shared/bundle';
import { LabError } from '@shared/errors';

export function contentHash(content: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

export function encodeBundle(content: BundleContent, exportedAt = Date.now()): { file: Buffer; contentHash: string } {
  const hash = contentHash(content);
  const json = JSON.stringify({ format: BUNDLE_FORMAT, version: BUNDLE_VERSION, contentHash: hash, exportedAt, content });
  return { file: zlib.gzipSync(json, { level: 6 }), contentHash: hash };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function bad(file: string, field: string, message: string): LabError {
  // the issue's path names the file too: front doors that print issues alone still say which file
  const where = field ? `${file}: ${field}` : file;
  return new LabError('invalid_input', `${where}: ${message}`, [{ path: where, message }]);
}

function fieldPath(path: readonly PropertyKey[]): string {
  let s = 'content';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return s;
}

/** Reads a bundle file's bytes; throws a LabError ('invalid_input') naming the file and the field at fault. */
export function decodeBundle(bytes: Buffer, file: string): { content: BundleContent; contentHash: string; exportedAt: number } {
  if (bytes.length > MAX_BUNDLE_BYTES) throw bad(file, '', `${mib(bytes.length)} is larger than the ${mib(MAX_BUNDLE_BYTES)} limit for a bundle`);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw bad(file, '', 'not a DPO Lab bundle (not a gzip file)');
  let text: string;
  try {
    text = zlib.gunzipSync(bytes, { maxOutputLength: MAX_BUNDLE_JSON_BYTES }).toString('utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ERR_BUFFER_TOO_LARGE' ? `inflates beyond ${mib(MAX_BUNDLE_JSON_BYTES)}` : `damaged gzip data (${e.message})`;
    throw bad(file, '', why);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(file, '', `not valid JSON inside the gzip (${(err as Error).message})`);
  }
  const head = BundleHeaderSchema.safeParse(raw);
  if (!head.success) {
    const issue = head.error.issues[0];
    const field = issue.path.map(String).join('.') || 'file';
    throw bad(file, field, field === 'format' ? issue.message.replace(/^format: /, '') : issue.message);
  }
  const { version, contentHash: stated, content, exportedAt } = head.data;
  if (version !== BUNDLE_VERSION)
    throw bad(
      file,
      'version',
      version > BUNDLE_VERSION
        ? `bundle version ${version} is newer than this lab reads (version ${BUNDLE_VERSION}); update DPO Lab`
        : `bundle version ${version} is not supported (this lab reads version ${BUNDLE_VERSION})`,
    );
  const actual = contentHash(content);
  if (actual !== stated) throw bad(file, 'contentHash', `the content does not match its hash (the file was changed or damaged after export)`);
  const parsed = BundleContentSchema.safeParse(content);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad(file, fieldPath(issue.path), issue.message);
  }
  return { content: parsed.data, contentHash: actual, exportedAt };
}
