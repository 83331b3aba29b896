import type { CommandParsed, DatasetInspection } from '@shared/contract';
import { loadPreferenceFile } from './data';
import { preparePairs, isKept } from './prepare-data';

/** The Datasets view and `lab dataset`: what a file gives, what was skipped and why, and (with a model) token counts. */
export async function inspectDataset(input: CommandParsed<'datasets:inspect'>): Promise<DatasetInspection> {
  if (!input.model) {
    const data = await loadPreferenceFile(input.path, { format: input.format, preference: input.preference });
    return {
      path: input.path,
      format: data.format,
      totalRows: data.totalRows,
      pairs: data.pairs.length,
      skippedCount: data.skipped.length,
      skipped: data.skipped.slice(0, 100),
      preview: data.pairs.slice(0, input.limit).map((p) => ({ ...p })),
    };
  }
  const prepared = await preparePairs({
    model: input.model,
    data: input.path,
    format: input.format,
    preference: input.preference,
    promptFormat: 'auto',
    maxLength: input.maxLength,
  });
  const { data, items } = prepared;
  return {
    path: input.path,
    format: data.format,
    totalRows: data.totalRows,
    pairs: data.pairs.length,
    skippedCount: data.skipped.length,
    skipped: data.skipped.slice(0, 100),
    droppedCount: items.filter((t) => !isKept(t)).length,
    promptFormat: prepared.promptFormat,
    preview: items.slice(0, input.limit).map((t) => {
      const base = { ...t.pair };
      if (!isKept(t)) return { ...base, tokens: { prompt: 0, chosen: 0, rejected: 0, truncated: true, dropped: t.dropped } };
      // EOS ends every sequence that kept its whole response; one that exactly fills maxLength is not truncated
      const full = (s: { ids: number[] }) => s.ids[s.ids.length - 1] !== prepared.tokenizer.eosTokenId;
      return {
        ...base,
        tokens: {
          prompt: t.chosen.promptLen,
          chosen: t.chosen.responseLen,
          rejected: t.rejected.responseLen,
          truncated: full(t.chosen) || full(t.rejected),
          dropped: null,
        },
      };
    }),
  };
}
