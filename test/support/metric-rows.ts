import type { MemorySink } from '../../src-main/engine/sink';

/** The metric rows one run wrote to a MemorySink, as "step|name" → value. */
export function rowsOf(sink: MemorySink, run: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of sink.rows) if (r.run === run) m.set(`${r.step}|${r.name}`, r.value);
  return m;
}
