import path from 'node:path';
import type { Command } from 'commander';
import { CliInputError } from './options';
import { call, openLab, print, type GlobalOpts } from './common';

function runId(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new CliInputError(`--run: expected a run id, got "${v}"`);
  return n;
}

/** `lab export-trl` and `lab import-trl` (issue 12): scale an LLM run out on TRL + Accelerate, and read its logs back. */
export function registerTrlCommands(program: Command): void {
  program
    .command('export-trl')
    .description('write an LLM run as a Hugging Face TRL + Accelerate/DeepSpeed job (same loss, data, settings)')
    .requiredOption('--run <id>', 'LLM run id')
    .requiredOption('--out <dir>', 'folder to write (must be empty or absent)')
    .option('--overwrite', "replace the job's files in a folder that is not empty")
    .action(async (flags: { run: string; out: string; overwrite?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const id = runId(flags.run);
      const lab = openLab(g);
      try {
        const out = await call(lab, 'runs:exportTrl', { id, out: path.resolve(flags.out), overwrite: flags.overwrite === true });
        print(g.json, out, () =>
          [
            `wrote run ${id} as a TRL ${out.trlVersion} job to ${out.out}: ${out.files.join(', ')}`,
            out.splitRecorded
              ? "data_split.json holds the lab's train/held-out split"
              : 'the data or tokenizer was not readable here: train.py splits by the seed',
            `launch: cd ${out.out} && accelerate launch --config_file accelerate/one_gpu.yaml train.py (README.md)`,
          ].join('\n'),
        );
      } finally {
        lab.close();
      }
    });

  program
    .command('import-trl')
    .description("read a TRL job's trainer_state.json into a run of kind trl (again: adds only new steps)")
    .argument('<dir>', 'the exported job folder, its output/ folder, or a trainer_state.json')
    .action(async (dir: string, _flags: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const lab = openLab(g);
      try {
        const out = await call(lab, 'runs:importTrl', { dir: path.resolve(dir) });
        print(
          g.json,
          out,
          () => `run ${out.runId}${out.created ? ' created' : ''}: ${out.addedSteps} new step(s) from ${out.trainerState} (last step ${out.lastStep ?? '—'})`,
        );
      } finally {
        lab.close();
      }
    });
}
