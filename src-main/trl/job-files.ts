import { TRL_VERSION } from './train-py';

/**
 * The launch files of an exported TRL job: Accelerate configs, a SLURM example, pinned requirements and the README.
 * Versions are one set released together with TRL 0.13.0 (December 2024) and known to install side by side.
 */
export const PINNED_REQUIREMENTS = [
  'torch==2.5.1',
  'transformers==4.47.1',
  'accelerate==1.2.1',
  `trl==${TRL_VERSION}`,
  'peft==0.14.0',
  'datasets==3.2.0',
  'deepspeed==0.16.2',
  'pyarrow==18.1.0',
] as const;

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

const deepspeed = (stage: 2 | 3) =>
  common(
    'DEEPSPEED',
    '8',
    `deepspeed_config:
  gradient_accumulation_steps: auto
  gradient_clipping: auto
  offload_optimizer_device: none
  offload_param_device: none
  zero3_init_flag: ${stage === 3}
${stage === 3 ? '  zero3_save_16bit_model: true\n' : ''}  zero_stage: ${stage}
`,
  );

/** accelerate/*.yaml by file name. Multi-GPU files say 8 processes; `--num_processes` overrides it. */
export const ACCELERATE_CONFIGS: Readonly<Record<string, string>> = {
  'one_gpu.yaml': common('NO', '1', 'gpu_ids: all\n'),
  'multi_gpu_ddp.yaml': common('MULTI_GPU', '8', 'gpu_ids: all\n'),
  'deepspeed_zero2.yaml': deepspeed(2),
  'deepspeed_zero3.yaml': deepspeed(3),
};

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
gradAccum). Divide gradAccum by N to keep the lab's step. Checkpoints go to \`output/checkpoint-*\`; launching again
resumes from the last one.

## Bring the results back

Copy \`output/trainer_state.json\` (or the whole folder) next to this README, or point the lab at the output folder:

\`\`\`sh
lab import-trl ./this-folder --json      # {"runId": ...}; run it again to add new steps only
\`\`\`

The import reads \`log_history\` (train entries, and \`eval_\`-prefixed ones, by step) into a run of kind \`trl\`
under the lab's metric names (\`loss\`, \`rewards/*\`, \`logps/*\`, \`balance/log10_prob_ratio\`,
\`balance/logp_grad_ratio\`, \`eval_*\`, \`grad_norm\`, \`learning_rate\`), so it sits in the runs list and the compare
view beside local runs. TensorBoard event files are not read.
`;
}
