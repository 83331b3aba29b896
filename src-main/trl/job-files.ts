import { TRL_COMMIT, TRL_VERSION } from './train-py';

/**
 * The launch files of an exported TRL job: Accelerate configs, a SLURM example, pinned requirements and the README.
 * TRL is pinned at the commit whose source train.py was checked against (TRL_COMMIT, version TRL_VERSION); the others are
 * the releases of December 2024 around it (TRL's own floors, read in its setup.py: transformers>=4.46, accelerate>=0.34,
 * datasets>=3.0). Installing them together has not been tried here (no PyPI).
 */
export const PINNED_REQUIREMENTS = [
  'torch==2.5.1',
  'transformers==4.47.1',
  'accelerate==1.2.1',
  `trl @ git+https://github.com/huggingface/trl.git@${TRL_COMMIT}`,
  'peft==0.14.0',
  'datasets==3.2.0',
  'deepspeed==0.16.2',
  'pyarrow==18.1.0',
] as const;

/*
 * Accelerate configs, key for key the layout of TRL's own examples/accelerate_configs (huggingface/trl:
 * single_gpu.yaml @ 7d75884, multi_gpu.yaml @ 8c6669b, deepspeed_zero2.yaml @ e88b5ed, deepspeed_zero3.yaml @ c3d2465).
 * Two things learned from them and from accelerate's sources:
 * - distributed_type 'NO' is quoted: accelerate reads the file with PyYAML (YAML 1.1), where a bare NO is false.
 * - DeepSpeed's gradient_accumulation_steps and gradient_clipping are the run's numbers, not 'auto': accelerate
 *   launch passes them on as ACCELERATE_GRADIENT_* (src/accelerate/utils/launch.py, prepare_deepspeed_cmd_env), its
 *   DeepSpeedPlugin reads the clipping with float() (src/accelerate/utils/dataclasses.py), and transformers refuses a
 *   DeepSpeed value that differs from TrainingArguments ("... config values that mismatch TrainingArguments values").
 */
const common = (distributedType: string, processes: string, extra = '') => `compute_environment: LOCAL_MACHINE
debug: false
${extra}distributed_type: ${distributedType}
downcast_bf16: 'no'
machine_rank: 0
main_training_function: main
mixed_precision: bf16
num_machines: 1
num_processes: ${processes}
rdzv_backend: static
same_network: true
use_cpu: false
`;

const deepspeed = (stage: 2 | 3, run: AccelerateRunValues) =>
  common(
    'DEEPSPEED',
    '8',
    `deepspeed_config:
  deepspeed_multinode_launcher: standard
  gradient_accumulation_steps: ${run.gradAccum}
  gradient_clipping: ${run.maxGradNorm}
  offload_optimizer_device: none
  offload_param_device: none
  zero3_init_flag: ${stage === 3}
${stage === 3 ? '  zero3_save_16bit_model: true\n' : ''}  zero_stage: ${stage}
`,
  );

/** The run's values the DeepSpeed configs must repeat (they have to equal train.py's TrainingArguments). */
export interface AccelerateRunValues {
  gradAccum: number;
  maxGradNorm: number;
}

/** accelerate/*.yaml by file name. Multi-GPU files say 8 processes; `--num_processes` overrides it. */
export function accelerateConfigs(run: AccelerateRunValues): Readonly<Record<string, string>> {
  return {
    'one_gpu.yaml': common("'NO'", '1', 'gpu_ids: all\n'),
    'multi_gpu_ddp.yaml': common('MULTI_GPU', '8', 'gpu_ids: all\n'),
    'deepspeed_zero2.yaml': deepspeed(2, run),
    'deepspeed_zero3.yaml': deepspeed(3, run),
  };
}

export function slurmScript(runId: number): string {
  return `#!/bin/bash
# Example SLURM job for lab run ${runId}: one node, 8 GPUs, DeepSpeed ZeRO-3. Adjust partition, time and paths.
#SBATCH --job-name=dpo-lab-run-${runId}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=24:00:00
#SBATCH --output=slurm-%j.out
set -euo pipefail
cd "\${SLURM_SUBMIT_DIR:-$(dirname "$0")}"
# export DPO_LAB_MODEL=/path/on/cluster/model DPO_LAB_DATA=/path/on/cluster/data.jsonl
accelerate launch --config_file accelerate/deepspeed_zero3.yaml --num_processes "\${SLURM_GPUS_ON_NODE:-8}" train.py
`;
}

export function readme(o: { runId: number; loss: string; model: string; data: string; finetune: string; splitRecorded: boolean }): string {
  return `# Lab run ${o.runId} as a TRL + Accelerate job

Exported by \`lab export-trl --run ${o.runId}\`. Loss **${o.loss}** (${o.finetune === 'lora' ? 'LoRA' : 'full fine-tuning'}), model \`${o.model}\`,
data \`${o.data}\`. Targets **TRL ${TRL_VERSION}**: \`train.py\` subclasses its \`DPOTrainer\` and overrides that
version's \`dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps)\`.

| file | what |
|------|------|
| \`dpo_lab_losses.py\` | every lab loss as plain PyTorch (same stop-gradients), plus the lab's balance diagnostics; torch only |
| \`dpo_lab_data.py\` | the lab's data loaders (HH, PKU-SafeRLHF better/safer, generic) and split, plain Python |
| \`train.py\` | the run's settings (\`RUN\`) and the DPOTrainer subclass |
| \`dpo_lab_run.json\` | the run's stored config, read back by \`lab import-trl\` |
| \`data_split.json\` | ${o.splitRecorded ? "the lab's held-out split (pair indices), so both train on the same pairs" : 'absent: the data was not readable at export, train.py splits by the seed'} |
| \`accelerate/\` | one GPU, multi-GPU DDP, DeepSpeed ZeRO-2, ZeRO-3 |
| \`slurm.sh\` | example SLURM job (8 GPUs, ZeRO-3) |
| \`requirements.txt\` | pinned versions |

## Launch

\`\`\`sh
python -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt
export DPO_LAB_MODEL=/cluster/path/to/model DPO_LAB_DATA=/cluster/path/to/data.jsonl   # if the paths differ there
accelerate launch --config_file accelerate/one_gpu.yaml train.py
accelerate launch --config_file accelerate/multi_gpu_ddp.yaml --num_processes 4 train.py
accelerate launch --config_file accelerate/deepspeed_zero3.yaml train.py
sbatch slurm.sh
\`\`\`

\`batchSize\` is per GPU: with N GPUs one optimiser step sees batchSize × gradAccum × N pairs (the lab: batchSize ×
gradAccum). Divide gradAccum by N to keep the lab's step: in \`RUN\` (train.py) and, for DeepSpeed, in the
\`gradient_accumulation_steps\` of the accelerate/deepspeed_*.yaml file, which must equal it (as \`gradient_clipping\`
must equal \`maxGradNorm\`; transformers stops on a mismatch). Checkpoints go to \`output/checkpoint-*\`; launching
again resumes from the last one.

Before loading a model, train.py checks the installed TRL against what it overrides (\`dpo_loss\`'s parameters, that
\`get_batch_loss_metrics\` calls it, \`DPOTrainer\`'s arguments, the \`DPOConfig\` fields it sets) and stops with the
differences if they do not fit.

## What was checked, and what was not

Targets TRL **${TRL_VERSION}**, huggingface/trl commit \`${TRL_COMMIT}\` (pinned in \`requirements.txt\`): main a few
weeks after the 0.13.0 release. TRL 0.13.0's own source could not be read where this job was written, so the pin is
the nearest TRL whose source was read, rather than a release that was not.

Checked statically, by reading that commit's \`trl/trainer/dpo_trainer.py\` and \`dpo_config.py\`:
- \`dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps)\` returns
  \`(losses, chosen_rewards, rejected_rewards)\` and is called once per batch by \`get_batch_loss_metrics(model, batch,
  train_eval)\`, whose metrics (\`rewards/chosen|rejected|accuracies|margins\`, \`logps/*\`, \`logits/*\`, \`eval_\`-prefixed
  in evaluation) go through \`store_metrics\` and \`log\` into \`trainer_state.json\`. The subclass adds the lab's
  \`balance/log10_prob_ratio\` and \`balance/logp_grad_ratio\` to those metrics, so they are logged the same way.
- \`DPOTrainer(model, ref_model, args, train_dataset, eval_dataset, processing_class, peft_config)\`; LoRA passes no
  reference model (TRL uses the base with the adapter off), full fine-tuning passes one.
- \`DPOConfig\` fields \`beta\`, \`loss_type\`, \`max_length\`, \`max_prompt_length\`, \`truncation_mode\` and transformers'
  \`TrainingArguments\`; log-probs are summed over the completion (EOS appended, as the lab does) and prompt +
  completion is cut to \`max_length\` keeping the start, as the lab does. A pair whose prompt alone fills it is left out
  of \`data_split.json\` as the lab leaves it out (without the split file, TRL keeps such a pair, cut).
- Accelerate configs follow the layout of TRL's \`examples/accelerate_configs\`; PEFT's \`LoraConfig\` field names were
  read in PEFT's source.

Tested by the lab with PyTorch: \`dpo_lab_losses.py\` (every loss, custom formulas included) and the tuple
\`train.py\`'s \`dpo_loss\` returns, values and gradients against the lab's own losses; the data rows and the
\`DPOConfig\`/\`LoraConfig\` arguments against the lab's values; every Python file compiles.

Not run: TRL, transformers, datasets, peft and DeepSpeed could not be installed where the job was written, so the
subclass and \`main()\` have never trained, and the pinned set was never installed together. train.py checks the
installed TRL's API at launch (above); run a few steps on one GPU before a long job. The commit was read from a
source index, not fetched from GitHub: if pip cannot fetch it, \`pip install trl==0.14.0\` (its source was not read
here) and let the launch check decide.

## Bring the results back

Copy \`output/trainer_state.json\` (or the whole folder) next to this README, or point the lab at the output folder:

\`\`\`sh
lab import-trl ./this-folder --json      # {"runId": ...}; run it again to add new steps only
\`\`\`

The import reads \`log_history\` (train entries, and \`eval_\`-prefixed ones, by step) into a run of kind \`trl\`
under the lab's metric names (\`loss\`, \`rewards/*\`, \`logps/*\`, \`balance/log10_prob_ratio\`,
\`balance/logp_grad_ratio\`, \`eval_*\`, \`grad_norm\`, \`learning_rate\`), so it sits in the runs list and the compare
view beside local runs. TensorBoard event files (\`runs/*/events.out.tfevents.*\`) are not read (not implemented): keep
\`trainer_state.json\` (written at every checkpoint and at the end); \`report_to\` is \`"none"\` in train.py.
`;
}
