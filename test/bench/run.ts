/**
 * Runs the benchmark modules and prints one table: `npx tsx test/bench/run.ts [name ...]` (names filter the
 * modules, e.g. `synthetic`). Add a module by appending it to MODULES.
 */
import { syntheticBench } from './synthetic.bench';
import { storeBench } from './store.bench';
import { labSweepBench } from './lab-sweep.bench';
import { printTable, type BenchRow } from './table';

const MODULES: { name: string; run: () => Promise<BenchRow[]> }[] = [
  { name: 'synthetic', run: syntheticBench },
  { name: 'store', run: storeBench },
  { name: 'lab-sweep', run: labSweepBench },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const chosen = only.length ? MODULES.filter((m) => only.includes(m.name)) : MODULES;
  if (only.length && chosen.length === 0) throw new Error(`no bench module named ${only.join(', ')}; modules: ${MODULES.map((m) => m.name).join(', ')}`);
  const rows: BenchRow[] = [];
  for (const m of chosen) {
    const t0 = performance.now();
    rows.push(...(await m.run()));
    console.error(`bench ${m.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  printTable(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
