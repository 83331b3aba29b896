import type { Command } from 'commander';
import { LlmConfigSchema } from '@shared/llm-config';
import { EXIT } from '@shared/errors';
import { formatParameterCount } from '@shared/llm-model';
import { addSchemaOptions, CliInputError, valuesFromFlags } from './options';
import { addCustomLossOptions, checkedFormula, customLossFromFlags, lossChoiceList, lossesWithCustom } from './custom-loss-flags';
import { call, openComputeLab, openLab, print, waitForRuns, type GlobalOpts } from './common';

function runIdFlag(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new CliInputError(`${flag}: expected a run id, got "${v}"`);
  return n;
}

const fmt = (v: number | undefined) => (v === undefined ? '—' : Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

async function waitAndReport(g: GlobalOpts, lab: ReturnType<typeof openLab>, runIds: number[]): Promise<void> {
  await waitForRuns(lab, runIds, runIds.length === 1 ? `run ${runIds[0]}` : `runs ${runIds.join(', ')}`);
  const details = await Promise.all(runIds.map((id) => call(lab, 'runs:get', { id })));
  const outs = details.map((d) => ({ runId: d.id, status: d.status, config: d.config, backend: d.backend, final: d.final, error: d.error }));
  print(g.json, outs.length === 1 ? outs[0] : { runs: outs }, () =>
    details
      .map((d) =>
        [
          `run ${d.id} ${d.status}${d.error ? `: ${d.error}` : ''} (${d.backend ?? 'no backend'})`,
          ...Object.entries(d.final ?? {})
            .filter(([k]) => !k.startsWith('perf/'))
            .map(([k, v]) => `  ${k.padEnd(28)} ${fmt(Number(v))}`),
        ].join('\n'),
      )
      .join('\n'),
  );
  const worst = details.some((d) => d.status === 'failed') ? EXIT.failed : details.some((d) => d.status === 'cancelled') ? EXIT.cancelled : EXIT.ok;
  process.exitCode = worst;
}

/** The LLM lab's commands: run llm, resume, export-model, logps, score, model and dataset inspection. */
export function registerLlmCommands(program: Command, run: Command): void {
  addSchemaOptions(
    addCustomLossOptions(
      run
        .command('llm')
        .description('fine-tune a local Hugging Face model on preference data with a DPO-family loss (LoRA or full)')
        .option('--full', 'fine-tune every weight instead of LoRA adapters')
        .option('--name <name>', 'run name'),
    ),
    // `finetune` is --full's job; --loss takes a list, so it is parsed here
    LlmConfigSchema,
    ['finetune'],
  ).action(async (flags: Record<string, unknown>, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOpts>();
    const listed = lossChoiceList(flags.loss, Number(flags.labelSmoothing ?? 0));
    if (typeof flags.lossFormula === 'string') checkedFormula('--loss-formula', flags.lossFormula);
    const lab = openLab(g);
    try {
      const { losses, loss } = lossesWithCustom(listed, await customLossFromFlags(lab, flags));
      const config = { ...valuesFromFlags(LlmConfigSchema, { ...flags, loss: loss.loss === 'custom' ? undefined : loss.loss }), ...loss };
      if (flags.full) config.finetune = 'full';
      const { runIds } = await call(lab, 'runs:start', { kind: 'llm', config, losses, name: flags.name });
      await waitAndReport(g, lab, runIds);
    } finally {
      lab.close();
    }
  });

  program
    .command('resume')
    .description('continue a cancelled or failed LLM run from its last checkpoint')
    .requiredOption('--run <id>', 'run id')
    .action(async (flags: { run: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const id = runIdFlag('--run', flags.run);
      const lab = openLab(g);
      try {
        const { runIds } = await call(lab, 'runs:resume', { id });
        await waitAndReport(g, lab, runIds);
      } finally {
        lab.close();
      }
    });

  program
    .command('export-model')
    .description("write an LLM run's model as a Hugging Face folder (merged weights, or a PEFT adapter)")
    .requiredOption('--run <id>', 'run id')
    .requiredOption('--out <dir>', 'folder to write (must be empty or absent)')
    .option('--merged', 'the full model with the adapters folded in (default)')
    .option('--adapter', 'only the LoRA adapter: adapter_config.json + adapter_model.safetensors')
    .action(async (flags: { run: string; out: string; merged?: boolean; adapter?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      if (flags.merged && flags.adapter) throw new CliInputError('--merged and --adapter: choose one');
      const id = runIdFlag('--run', flags.run);
      const lab = openLab(g);
      try {
        const out = await call(lab, 'runs:exportModel', { id, out: flags.out, mode: flags.adapter ? 'adapter' : 'merged' });
        print(g.json, out, () => `wrote the ${out.mode} model of run ${id} (step ${out.step}) to ${out.out}: ${out.files.join(', ')}`);
      } finally {
        lab.close();
      }
    });

  program
    .command('logps')
    .description('sequence log-probs of every pair in a file under a model, as training computes them')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .requiredOption('--data <file>', 'preference data file')
    .option('--adapter <dir>', 'a PEFT LoRA adapter folder to load on top of the model')
    .option('--max-length <n>', 'tokens per sequence', '512')
    .option('--format <name>', 'auto, hh, saferlhf or generic', 'auto')
    .option('--prompt-format <name>', 'auto, chat-template or raw', 'auto')
    .option('--batch-size <n>', 'pairs per forward pass', '4')
    .action(
      async (
        flags: { model: string; data: string; adapter?: string; maxLength: string; format: string; promptFormat: string; batchSize: string },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals<GlobalOpts>();
        const num = (flag: string, v: string) => {
          if (!/^\d+$/.test(v)) throw new CliInputError(`${flag}: expected a whole number, got "${v}"`);
          return Number(v);
        };
        const lab = openComputeLab(g);
        try {
          const out = await call(lab, 'llm:logps', {
            model: flags.model,
            data: flags.data,
            adapter: flags.adapter,
            maxLength: num('--max-length', flags.maxLength),
            format: flags.format,
            promptFormat: flags.promptFormat,
            batchSize: num('--batch-size', flags.batchSize),
          });
          const json = { logps: out.logps, tokens: out.tokens, skipped: out.skipped, dropped: out.dropped };
          print(g.json, json, () =>
            out.logps
              .map((l, i) =>
                l
                  ? `${i}\tchosen ${l.chosen.toFixed(4)} (${out.tokens[i]?.chosen} tok)\trejected ${l.rejected.toFixed(4)} (${out.tokens[i]?.rejected} tok)`
                  : `${i}\tdropped`,
              )
              .join('\n'),
          );
        } finally {
          lab.close();
        }
      },
    );

  program
    .command('score')
    .description('score {prompt, response} rows with a reward or cost model folder: the text as it stands, read at its last token')
    .requiredOption('--scorer <dir>', 'a *ForSequenceClassification folder (num_labels 1)')
    .requiredOption('--data <file>', 'JSON lines with "prompt" and "response"')
    .option('--batch-size <n>', 'texts per forward pass', '8')
    .action(async (flags: { scorer: string; data: string; batchSize: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      if (!/^\d+$/.test(flags.batchSize)) throw new CliInputError(`--batch-size: expected a whole number, got "${flags.batchSize}"`);
      const lab = openComputeLab(g);
      try {
        const out = await call(lab, 'llm:score', { scorer: flags.scorer, data: flags.data, batchSize: Number(flags.batchSize) });
        print(g.json, { scores: out.scores }, () => out.scores.map((s, i) => `${i}\t${s.toFixed(6)}\t(${out.tokens[i]} tokens)`).join('\n'));
      } finally {
        lab.close();
      }
    });

  program
    .command('model')
    .description('what the lab sees in a model folder: architecture, parameters, dtype, vocabulary, context, memory')
    .argument('<dir>', 'Hugging Face model folder')
    .action(async (dir: string, _flags: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const lab = openComputeLab(g);
      try {
        const m = await call(lab, 'models:inspect', { path: dir });
        print(g.json, m, () =>
          [
            `${m.architecture} (${m.modelType}), ${formatParameterCount(m.parameters)} parameters, ${m.dtypes.join('/')} on disk`,
            `vocabulary ${m.vocabSize}, context ${m.contextLength}, ${m.layers} layers × ${m.hiddenSize}, ${m.heads} heads (${m.kvHeads} kv)`,
            `training memory at ${m.memoryEstimate.maxLength} tokens, batch ${m.memoryEstimate.batchSize}: LoRA ≈ ${(m.memoryEstimate.lora / 1024 ** 3).toFixed(2)} GiB, full ≈ ${(m.memoryEstimate.full / 1024 ** 3).toFixed(2)} GiB`,
          ].join('\n'),
        );
      } finally {
        lab.close();
      }
    });

  program
    .command('dataset')
    .description('what the lab reads from a preference file: format, pairs, skipped rows and why, a preview')
    .argument('<file>', 'preference data file')
    .option('--model <dir>', 'count tokens with this model’s tokenizer')
    .option('--format <name>', 'auto, hh, saferlhf or generic', 'auto')
    .option('--limit <n>', 'pairs to preview', '3')
    .action(async (file: string, flags: { model?: string; format: string; limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const lab = openComputeLab(g);
      try {
        const d = await call(lab, 'datasets:inspect', { path: file, model: flags.model, format: flags.format, limit: Number(flags.limit) });
        print(g.json, d, () =>
          [
            `${d.format}: ${d.pairs} pairs from ${d.totalRows} rows, ${d.skippedCount} skipped`,
            ...d.skipped.slice(0, 10).map((s) => `  line ${s.line}${s.field ? ` (${s.field})` : ''}: ${s.reason}`),
            ...d.preview.map((p) => `--- line ${p.line}\nPROMPT ${JSON.stringify(p.prompt.slice(-200))}\nCHOSEN ${JSON.stringify(p.chosen.slice(0, 200))}`),
          ].join('\n'),
        );
      } finally {
        lab.close();
      }
    });
}
