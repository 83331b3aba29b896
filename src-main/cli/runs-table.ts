import path from 'node:path';
import type { RunSummary } from '@shared/runs';
import { lossLabel, type CustomLossSpec } from '@shared/losses';

/**
 * What tells runs of one kind apart at a glance: a synthetic run's OOD mask fraction, an LLM run's model
 * folder (its basename: the full path rarely fits a terminal and the name is what people recognise).
 */
export function maskOrModel(run: RunSummary): string {
  if (run.kind === 'llm') {
    const model = run.config.model;
    return typeof model === 'string' && model ? path.basename(model.replace(/[\\/]+$/, '')) : '';
  }
  const mask = run.config.mask;
  return typeof mask === 'number' ? String(mask) : '';
}

const MAX_NAME = 48;
const shorten = (s: string) => (s.length > MAX_NAME ? `${s.slice(0, MAX_NAME - 1)}…` : s);

/** `dpo-lab runs` as a text table; the name comes last, as the one column of free width. */
export function runsTable(runs: readonly RunSummary[]): string {
  const head = ['id', 'status', 'kind', 'loss', 'seed', 'mask/model', 'expectedUtility', 'created', 'name'];
  const rows = runs.map((r) => [
    String(r.id),
    r.status,
    r.kind,
    r.loss === 'custom' ? lossLabel({ loss: r.loss, customLoss: r.config.customLoss as CustomLossSpec | undefined }) : (r.loss ?? ''),
    r.seed == null ? '' : String(r.seed),
    maskOrModel(r),
    r.final?.expectedUtility == null ? '' : r.final.expectedUtility.toFixed(4),
    new Date(r.createdAt).toISOString().replace('T', ' ').slice(0, 19),
    shorten(r.name),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}
