/**
 * Experiment bundles: one file that carries a run (or a sweep and all its runs) to another lab, with what it
 * takes to re-run it (configs, seeds, the synthetic dataset, fingerprints of an LLM run's model and data) and to
 * inspect it without re-running (every metric row, the K×K snapshots, final metrics, logs).
 *
 * On disk: gzip of `{format, version, contentHash, exportedAt, content}` where contentHash is the sha256 of
 * JSON.stringify(content). The hash leaves out the export time, so exporting the same run twice gives the same
 * hash, and importing either file into a lab that already holds it is recognised as a repeat.
 */
import { z } from 'zod';
import { RUN_KINDS, SWEEP_STATUSES } from './runs';

export const BUNDLE_FORMAT = 'dpo-lab-bundle';
export const BUNDLE_VERSION = 1;
export const BUNDLE_EXTENSION = '.dpolab.json.gz';
/**
 * Largest bundle file the lab reads. The web server bounds request bodies at 64 MiB and the file travels in
 * base64 inside JSON (4/3 larger): 40 MiB fits with room to spare. A Table 1 sweep of 90 runs is about 15 MiB.
 */
export const MAX_BUNDLE_BYTES = 40 * 1024 * 1024;
/** Largest decompressed content: a small file that inflates to gigabytes (a gzip bomb) is refused early. */
export const MAX_BUNDLE_JSON_BYTES = 768 * 1024 * 1024;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');
const Int = z.number().int();

const SeriesSchema = z
  .object({ steps: z.array(Int), values: z.array(z.number().nullable()) })
  .refine((s) => s.steps.length === s.values.length, 'steps and values differ in length');

const SnapshotSchema = z.object({
  name: z.string().min(1),
  step: Int,
  shape: z.tuple([Int.min(0), Int.min(0)]),
  /** row-major float32, little-endian, base64 */
  data: z.string(),
});

export const FileFingerprintSchema = z.object({
  /** absolute path in the exporting lab (a model folder's files: relative to the folder) */
  path: z.string().min(1),
  size: Int.min(0),
  sha256: Sha256,
});
export type FileFingerprint = z.infer<typeof FileFingerprintSchema>;

/** What an LLM run read: its model folder (every file) and its data file, as they were when bundled. */
export const LlmFingerprintsSchema = z.object({
  model: z.object({ path: z.string().min(1), files: z.array(FileFingerprintSchema).min(1) }),
  data: FileFingerprintSchema,
});
export type LlmFingerprints = z.infer<typeof LlmFingerprintsSchema>;

export const CustomLossSchema = z.object({ name: z.string(), formula: z.string() });

const SyntheticDatasetShape = z.looseObject({
  K: Int,
  alpha: z.number(),
  mask: z.array(z.tuple([Int, Int])),
  pairs: z.array(z.tuple([Int, Int, Int])),
});

export const BundledRunSchema = z.object({
  /** the run's id in the exporting lab (imports get new ids) */
  sourceId: Int.positive(),
  name: z.string(),
  kind: z.enum(RUN_KINDS),
  status: z.enum(['done', 'failed', 'cancelled']),
  /** the stored config, verbatim (a custom loss's formula included) */
  config: z.record(z.string(), z.unknown()),
  seed: Int.nullable(),
  /** the backend it trained on, e.g. "cpu" or "wasm (SIMD, 4 threads)" */
  backend: z.string().nullable(),
  versions: z.record(z.string(), z.string()).nullable(),
  final: z.record(z.string(), z.number()).nullable(),
  error: z.string().nullable(),
  tags: z.array(z.string()),
  notes: z.string(),
  createdAt: Int,
  startedAt: Int.nullable(),
  finishedAt: Int.nullable(),
  /** a formula loss, lifted out of the config for readers of the file */
  customLoss: CustomLossSchema.nullable(),
  /** synthetic runs: the dataset file the run trained on (synthetic.md format) */
  dataset: SyntheticDatasetShape.nullable(),
  /** LLM runs: the model and data it read, to check before a rerun */
  fingerprints: LlmFingerprintsSchema.nullable(),
  metrics: z.record(z.string(), SeriesSchema),
  snapshots: z.array(SnapshotSchema),
  log: z.array(z.object({ ts: Int, level: z.enum(['info', 'warn', 'error']), text: z.string() })),
});
export type BundledRun = z.infer<typeof BundledRunSchema>;

export const BundleContentSchema = z.object({
  /** the exporting lab; each run says which backend it trained on */
  app: z.object({ name: z.literal('dpo-lab'), version: z.string() }),
  sweep: z
    .object({
      sourceId: Int.positive(),
      name: z.string(),
      preset: z.string().nullable(),
      config: z.record(z.string(), z.unknown()),
      status: z.enum(SWEEP_STATUSES),
      summary: z.unknown(),
    })
    .nullable(),
  runs: z.array(BundledRunSchema).min(1, 'a bundle holds at least one run'),
});
export type BundleContent = z.infer<typeof BundleContentSchema>;

/** The envelope, read first so that a file of another version is named as such rather than as a field error. */
export const BundleHeaderSchema = z.object({
  format: z.literal(BUNDLE_FORMAT, { error: `format: not a DPO Lab bundle (expected "${BUNDLE_FORMAT}")` }),
  version: Int,
  contentHash: Sha256,
  exportedAt: Int,
  content: z.unknown(),
});

// ---- the API's side ------------------------------------------------------------------------------------------

const Id = z.number().int().positive();
/** base64 of a whole bundle file, bounded so the request stays under the server's body limit */
const MAX_BASE64 = Math.ceil(MAX_BUNDLE_BYTES / 3) * 4;

export const BundleExportInputSchema = z
  .object({ runId: Id.optional(), sweepId: Id.optional() })
  .strict()
  .refine((i) => (i.runId === undefined) !== (i.sweepId === undefined), { message: 'give runId or sweepId (one of them)', path: ['runId'] });

export const BundleImportInputSchema = z
  .object({
    /** the file's name, for messages */
    filename: z.string().min(1).max(500),
    /** the file, base64 */
    data: z
      .string()
      .min(1, 'data: the file is empty')
      .max(MAX_BASE64, `data: a bundle is at most ${MAX_BUNDLE_BYTES / 1024 / 1024} MiB`),
  })
  .strict();

export const RerunInputSchema = z
  .object({
    id: Id,
    /** an LLM run's model folder on this machine, when it is not where the run was trained */
    model: z.string().min(1).max(4096).optional(),
    /** an LLM run's data file on this machine, likewise */
    data: z.string().min(1).max(4096).optional(),
  })
  .strict();

export interface BundleExportResult {
  filename: string;
  /** the file, base64 */
  data: string;
  bytes: number;
  contentHash: string;
  runIds: number[];
}

export interface BundleImportResult {
  contentHash: string;
  /** true when this lab already held the bundle: nothing was added, the ids are the earlier import's */
  duplicate: boolean;
  runIds: number[];
  sweepId: number | null;
  message: string;
}

export interface RerunResult {
  runId: number;
  sourceRunId: number;
}

// ---- comparing a rerun with its source -----------------------------------------------------------------------

export interface MetricDifference {
  metric: string;
  original: number | null;
  rerun: number | null;
  /** rerun − original (null where either is missing) */
  diff: number | null;
}

export interface RerunComparison {
  /** every final metric equal, bit for bit, and the same set of metrics */
  exact: boolean;
  sameBackend: boolean;
  originalBackend: string | null;
  rerunBackend: string | null;
  /** the metrics that differ (all of them compared when exact is false) */
  differences: MetricDifference[];
  /** one line for people: "reproduced exactly" or what differs */
  summary: string;
}

/** The backend's name without its details ("wasm (SIMD, 4 threads)" → "wasm"): the part that decides the numbers. */
export function backendName(label: string | null): string | null {
  return label == null ? null : label.split(/[\s(]/)[0] || label;
}

/** Compares the final metrics of a rerun with those of the run it repeats. */
/** Metrics that measure the machine a run trained on (tokens/s, step time, memory), not what it learned. */
export function isMachineMetric(name: string): boolean {
  return name.startsWith('perf/');
}

export function compareFinals(
  original: { final: Record<string, number> | null; backend: string | null },
  rerun: { final: Record<string, number> | null; backend: string | null },
): RerunComparison {
  const a = original.final ?? {};
  const b = rerun.final ?? {};
  const all = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  // tokens/s, step time and memory measure the machine at the time, not the training: never the same twice
  const names = all.filter((m) => !isMachineMetric(m));
  const skipped = all.length - names.length;
  const differences: MetricDifference[] = [];
  for (const metric of names) {
    const x = metric in a ? a[metric] : null;
    const y = metric in b ? b[metric] : null;
    if (x !== null && y !== null && Object.is(x, y)) continue;
    differences.push({ metric, original: x, rerun: y, diff: x !== null && y !== null ? y - x : null });
  }
  const exact = differences.length === 0 && names.length > 0;
  const sameBackend = backendName(original.backend) === backendName(rerun.backend);
  const backendNote =
    (sameBackend ? '' : ` (backend ${original.backend ?? 'unknown'} → ${rerun.backend ?? 'unknown'})`) +
    (skipped ? `; ${skipped} timing/memory metric${skipped > 1 ? 's' : ''} (perf/*) not compared` : '');
  const summary = exact
    ? `reproduced exactly: all ${names.length} final metrics identical${backendNote}`
    : names.length === 0
      ? 'nothing to compare: neither run has final metrics'
      : `${differences.length} of ${names.length} final metrics differ${backendNote}: ` +
        differences
          .slice(0, 6)
          .map((d) => `${d.metric} ${fmt(d.original)} → ${fmt(d.rerun)}${d.diff !== null ? ` (${d.diff >= 0 ? '+' : ''}${d.diff.toExponential(2)})` : ''}`)
          .join(', ') +
        (differences.length > 6 ? ', …' : '');
  return { exact, sameBackend, originalBackend: original.backend, rerunBackend: rerun.backend, differences, summary };
}

function fmt(v: number | null): string {
  return v === null ? 'missing' : String(Number(v.toPrecision(8)));
}
