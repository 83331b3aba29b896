/**
 * Experiment bundles from the app: export a run or a sweep as one file (a download in web mode, the save dialog
 * in Electron), import one picked or dropped onto the window. The file travels as base64 inside the command's
 * JSON (bundles:export / bundles:import in the contract), the same schema every front door uses.
 */
import { reactive } from 'vue';
import { BUNDLE_EXTENSION, MAX_BUNDLE_BYTES, type BundleImportResult } from '@shared/bundle';
import { errorText, lab, saveDataUrl } from '../api/client';
import { refreshRuns } from '../stores/runs';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** Exports a run or a sweep and saves the file; returns its name and size, or null when the save was cancelled. */
export async function exportBundle(target: { runId: number } | { sweepId: number }): Promise<{ filename: string; bytes: number }> {
  const r = await lab['bundles:export'](target);
  await saveDataUrl(r.filename, `data:application/gzip;base64,${r.data}`);
  return { filename: r.filename, bytes: r.bytes };
}

/** A file's bytes as base64 (FileReader's data URL, without its head: no megabyte strings built by hand). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result ?? '');
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(new Error(`${file.name}: could not be read (${reader.error?.message ?? 'unknown error'})`));
    reader.readAsDataURL(file);
  });
}

export interface ImportNotice {
  filename: string;
  state: 'reading' | 'done' | 'error';
  result: BundleImportResult | null;
  error: string;
}

/** The imports of this session, newest first; the app shows the latest one until it is dismissed. */
export const bundleImports = reactive({ latest: null as ImportNotice | null });

/** Imports one bundle file; the outcome (new ids, "already imported", or why not) lands in bundleImports. */
export async function importBundleFile(file: File): Promise<ImportNotice> {
  const notice: ImportNotice = reactive({ filename: file.name, state: 'reading', result: null, error: '' });
  bundleImports.latest = notice;
  try {
    // refused before it is read or sent: the lab would refuse it anyway, after a 40 MiB upload
    if (file.size > MAX_BUNDLE_BYTES) throw new Error(`${file.name}: ${mib(file.size)} is larger than the ${mib(MAX_BUNDLE_BYTES)} limit for a bundle`);
    if (file.size === 0) throw new Error(`${file.name}: the file is empty`);
    const data = await readBase64(file);
    notice.result = await lab['bundles:import']({ filename: file.name, data });
    notice.state = 'done';
    if (!notice.result.duplicate) void refreshRuns();
  } catch (err) {
    notice.error = errorText(err);
    notice.state = 'error';
  }
  return notice;
}

/** What a file picker offers first (any file may still be chosen: a renamed bundle is read by its content). */
export const BUNDLE_ACCEPT = `${BUNDLE_EXTENSION},.gz`;
