/**
 * train.py of an exported TRL job: a DPOTrainer subclass for the pinned TRL version whose dpo_loss is the lab's loss
 * (dpo_lab_losses.py), the lab's data loaders' semantics, and the run's settings written in as a Python literal
 * (RUN), so the job runs without the lab and its values can be read in the file.
 */

/** The TRL release the exported job is written against; requirements.txt pins it and train.py checks it. */
export const TRL_VERSION = '0.13.0';

const TRAIN_PY_BODY = String.raw`

# ---------------------------------------------------------------------------------------------------------------
# The trainer: TRL's DPOTrainer with the lab's loss and the lab's balance diagnostics
# ---------------------------------------------------------------------------------------------------------------
class DpoLabTrainer(DPOTrainer):
    """DPOTrainer (TRL %TRL%) whose dpo_loss is the lab's RUN["loss"]. DPOConfig.loss_type stays "sigmoid", so TRL's
    concatenated_forward returns plain summed log-probs (it length-normalises only for its own "ipo"), as the lab uses."""

    def __init__(self, *args, lab_loss, lab_clip, lab_label_smoothing, **kwargs):
        self.lab_loss = lab_loss
        self.lab_clip = lab_clip
        self.lab_label_smoothing = lab_label_smoothing
        self._lab_batch_metrics = {}
        super().__init__(*args, **kwargs)

    def dpo_loss(self, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, *args, **kwargs):
        device = self.accelerator.device
        lw, ll = chosen_logps.to(device), rejected_logps.to(device)
        ref_w, ref_l = ref_chosen_logps.to(device), ref_rejected_logps.to(device)
        losses = dpo_lab_loss(self.lab_loss, lw, ll, ref_w, ref_l, self.beta, self.lab_clip, self.lab_label_smoothing)
        self._lab_batch_metrics = lab_metrics(self.lab_loss, lw, ll, ref_w, ref_l, self.beta, self.lab_clip, self.lab_label_smoothing)
        chosen_rewards = self.beta * (lw - ref_w).detach()
        rejected_rewards = self.beta * (ll - ref_l).detach()
        return losses, chosen_rewards, rejected_rewards

    def get_batch_loss_metrics(self, model, batch, train_eval="train"):
        loss, metrics = super().get_batch_loss_metrics(model, batch, train_eval=train_eval)
        prefix = "eval_" if train_eval == "eval" else ""
        for name, value in self._lab_batch_metrics.items():
            metrics[prefix + name] = self.accelerator.gather_for_metrics(value.reshape(1)).mean().item()
        return loss, metrics


def main():
    import trl

    if trl.__version__ != TRL_VERSION:
        print("warning: this job was written for TRL %s (dpo_loss's signature), found %s" % (TRL_VERSION, trl.__version__))
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.environ.get("DPO_LAB_DATA", RUN["data"])
    model_path = os.environ.get("DPO_LAB_MODEL", RUN["model"])
    out_dir = os.environ.get("DPO_LAB_OUTPUT", os.path.join(here, "output"))

    fmt, pairs = load_pairs(data, RUN["dataFormat"], RUN["preference"], RUN["maxPairs"])
    train_pairs, eval_pairs = split_pairs(pairs, RUN["evalFraction"], RUN["seed"], os.path.join(here, "data_split.json"))
    eval_pairs = eval_pairs[: RUN["maxEvalPairs"]]
    if not train_pairs:
        sys.exit("%s: no training pairs left (%d usable pairs)" % (data, len(pairs)))

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    chat = RUN["promptFormat"] == "chat-template" or (
        RUN["promptFormat"] == "auto" and getattr(tokenizer, "chat_template", None) and fmt != "saferlhf"
    )
    to_row = (lambda p: as_chat(p, fmt)) if chat else (lambda p: p)
    train_ds = Dataset.from_list([to_row(p) for p in train_pairs])
    eval_ds = Dataset.from_list([to_row(p) for p in eval_pairs]) if eval_pairs else None
    print("format %s, prompt format %s: %d training pairs, %d held-out pairs" % (fmt, "chat-template" if chat else "raw", len(train_ds), len(eval_pairs)))

    model = AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=torch.bfloat16 if torch.cuda.is_available() else torch.float32)
    peft_config = None
    if RUN["finetune"] == "lora":
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=RUN["loraRank"],
            lora_alpha=RUN["loraAlpha"],
            lora_dropout=RUN["loraDropout"],
            target_modules=RUN["loraTargets"] or None,
            task_type="CAUSAL_LM",
        )

    args = DPOConfig(
        output_dir=out_dir,
        beta=RUN["beta"],
        loss_type="sigmoid",
        max_length=RUN["maxLength"],
        max_prompt_length=RUN["maxLength"],
        truncation_mode="keep_start",
        max_steps=RUN["steps"],
        per_device_train_batch_size=RUN["batchSize"],
        per_device_eval_batch_size=RUN["batchSize"],
        gradient_accumulation_steps=RUN["gradAccum"],
        learning_rate=RUN["lr"],
        lr_scheduler_type=RUN["schedule"],
        warmup_steps=RUN["warmupSteps"],
        weight_decay=RUN["weightDecay"],
        max_grad_norm=RUN["maxGradNorm"],
        optim="adamw_torch",
        seed=RUN["seed"],
        data_seed=RUN["seed"],
        eval_strategy="steps" if (eval_ds is not None and RUN["evalEvery"] > 0) else "no",
        eval_steps=RUN["evalEvery"] or None,
        save_strategy="steps",
        save_steps=RUN["checkpointEvery"] or RUN["steps"],
        logging_steps=1,
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        gradient_checkpointing=RUN["finetune"] == "full",
        report_to="none",
    )
    trainer = DpoLabTrainer(
        model=model,
        ref_model=None,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        lab_loss=RUN["loss"],
        lab_clip=RUN["clip"],
        lab_label_smoothing=RUN["labelSmoothing"],
    )
    resume = any(d.startswith("checkpoint-") for d in os.listdir(out_dir)) if os.path.isdir(out_dir) else False
    trainer.train(resume_from_checkpoint=True if resume else None)
    if eval_ds is not None:
        trainer.evaluate()
    trainer.save_model(out_dir)
    trainer.save_state()


if __name__ == "__main__":
    main()
`;

/** Python literal of a JSON value (True/False/None), so RUN reads as Python. */
export function pyLiteral(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} into train.py`);
    // JavaScript's shortest round-trip form (1e-7, 0.1, 300) is also a Python literal of the same value
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  const inner = indent + '    ';
  if (Array.isArray(v)) return `[${v.map((x) => pyLiteral(x, inner)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(x, inner)},`);
  return `{\n${entries.join('\n')}\n${indent}}`;
}

/** train.py for one run: header, imports, RUN (the run's settings, LoRA targets resolved), then the fixed body. */
export function trainPy(run: { runId: number; values: Record<string, unknown> }): string {
  const head = `"""Train lab run ${run.runId} with Hugging Face TRL ${TRL_VERSION} + Accelerate (exported by \`lab export-trl\`).

Launch: accelerate launch --config_file accelerate/one_gpu.yaml train.py   (see README.md)
The loss is the lab's own (dpo_lab_losses.py); logs land in output/trainer_state.json under the lab's metric names.
Environment overrides: DPO_LAB_MODEL, DPO_LAB_DATA (paths on the cluster), DPO_LAB_OUTPUT.
"""
import os
import sys

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer

from dpo_lab_data import as_chat, load_pairs, split_pairs
from dpo_lab_losses import dpo_lab_loss, lab_metrics

TRL_VERSION = ${JSON.stringify(TRL_VERSION)}

# The run's settings as the lab stored them (src-shared/llm-config.ts); loraTargets resolved to a list.
RUN = ${pyLiteral(run.values)}
`;
  return head + TRAIN_PY_BODY.replace('%TRL%', TRL_VERSION);
}
