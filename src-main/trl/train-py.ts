/**
 * train.py of an exported TRL job: a thin DPOTrainer subclass whose dpo_loss is the lab's loss (dpo_lab_losses.py),
 * the lab's data loaders' semantics, and the run's settings written in as a Python literal (RUN), so the job runs
 * without the lab and its values can be read in the file. Everything but the subclass and main() needs torch only
 * and is tested with it (test/unit/trl-export.test.ts); TRL, transformers, datasets and peft cannot be installed
 * here, so the subclass has not been run against a real TRL.
 *
 * What the TRL-facing code was checked against (public sources read through the lab's reference library, statically:
 * nothing here imports TRL):
 * - TRL 0.13.0 itself could not be read: the library holds no snapshot of huggingface/trl at the v0.13.0 tag, and
 *   PyPI is out of reach here. The job therefore pins the nearest snapshot that could be read in full,
 *   huggingface/trl @ TRL_COMMIT, whose trl/__init__.py says 0.14.0.dev0: main a few weeks after the 0.13.0 release
 *   (December 2024), before PR #2551 (2025-01-10) made max_length truncation follow truncation_mode.
 *   Read there, trl/trainer/dpo_trainer.py and dpo_config.py:
 *   - DPOTrainer.__init__(model, ref_model, args, data_collator, train_dataset, eval_dataset, processing_class,
 *     model_init, compute_metrics, callbacks, optimizers, preprocess_logits_for_metrics, peft_config); `tokenizer`
 *     only through a deprecation shim; processing_class is required; ref_model together with peft_config is refused
 *     unless force_use_ref_model; ref_model None without PEFT makes create_reference_model(model).
 *   - dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps) -> (losses, chosen_rewards,
 *     rejected_rewards), rewards = beta * (policy - reference) detached; called once per batch from
 *     get_batch_loss_metrics(model, batch, train_eval) -> (losses.mean(), metrics), metrics named
 *     {prefix}rewards/chosen|rejected|accuracies|margins, {prefix}logps/chosen|rejected, {prefix}logits/chosen|rejected
 *     with prefix "eval_" for evaluation, each a gathered mean (.item()).
 *   - compute_loss / prediction_step pass those metrics to store_metrics(metrics, train_eval); log() adds their means
 *     to the logged dict and Trainer writes it to log_history (trainer_state.json). So extra keys returned by
 *     get_batch_loss_metrics are logged under their own names: the subclass below adds the balance diagnostics there.
 *   - concatenated_forward sums per-token log-probs over the completion (divides by length only for loss_type "ipo"),
 *     cuts prompt + completion to max_length keeping the start whatever truncation_mode says; tokenize_row appends
 *     EOS to each completion and cuts the prompt only when max_prompt_length is set (the lab does the same).
 *   - DPOConfig fields: beta, loss_type, label_smoothing, max_length, max_prompt_length, max_completion_length,
 *     truncation_mode ("keep_end" | "keep_start"), precompute_ref_log_probs, force_use_ref_model, ... over
 *     transformers' TrainingArguments.
 *   (huggingface/trl @ 61c7fa287dfc978ae1bc6837dc31689e7c4064c2, 0.17.0.dev0 by its setup.py, was readable too; only
 *   its DPOTrainer.__init__ was read: the same arguments, the tokenizer shim gone. Not pinned.)
 * - huggingface/trl trl/models/modeling_base.py: create_reference_model raises under DeepSpeed ZeRO-3, hence the
 *   explicit reference model for full fine-tuning.
 * - huggingface/peft src/peft/tuners/lora/config.py @ 6b2556e6ff971c85b2b3d919ba7e67d41bf2c813: LoraConfig fields r,
 *   target_modules (None: PEFT's per-architecture default), lora_alpha, lora_dropout; task_type from PeftConfig.
 * Nothing of TRL has run here: train.py checks the installed TRL's API at launch (trl_api_problems).
 */

/** The TRL source the job was checked against: huggingface/trl at this commit (its version string below). */
export const TRL_COMMIT = 'ff145f4f23cbfc60b72eb5ae346ca6b965b2285b';

/** trl.__version__ at TRL_COMMIT; requirements.txt pins the commit and train.py compares the installed version. */
export const TRL_VERSION = '0.14.0.dev0';

const TRAIN_PY_BODY = String.raw`

# ---------------------------------------------------------------------------------------------------------------
# Torch-only part: the loss TRL's dpo_loss hands back, the settings TRL and PEFT receive, the rows it trains on.
# The lab checks these with torch alone (test/unit/trl-export.test.ts); nothing here imports TRL.
# ---------------------------------------------------------------------------------------------------------------
def lab_loss_name(run):
    """The dpo_lab_losses.py name of the run's loss: its custom loss's name when the run used a formula."""
    if run["loss"] == "custom":
        custom = run.get("customLoss") or {}
        if "name" not in custom:
            sys.exit('RUN["loss"] is "custom" but RUN has no customLoss (name and formula)')
        return custom["name"]
    return run["loss"]


def lab_dpo_loss(run, beta, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps):
    """What DpoLabTrainer.dpo_loss returns for a batch, and the lab's balance diagnostics of that batch.

    Inputs are TRL's per-pair summed sequence log-probs, shape (batch,). Returns ((losses, chosen_rewards,
    rejected_rewards), metrics): per-pair losses of the run's loss (dpo_lab_losses.py) and the implicit
    rewards beta * (policy - reference), detached, the tuple TRL's dpo_loss returns; metrics are 0-d tensors.
    """
    device = chosen_logps.device
    lw, ll = chosen_logps, rejected_logps.to(device)
    ref_w, ref_l = ref_chosen_logps.to(device), ref_rejected_logps.to(device)
    clip, smoothing = run["clip"], run["labelSmoothing"]
    name = lab_loss_name(run)
    losses = dpo_lab_loss(name, lw, ll, ref_w, ref_l, beta, clip, smoothing)
    chosen_rewards = beta * (lw - ref_w).detach()
    rejected_rewards = beta * (ll - ref_l).detach()
    metrics = lab_metrics(name, lw, ll, ref_w, ref_l, beta, clip, smoothing)
    return (losses, chosen_rewards, rejected_rewards), metrics


def dpo_config_kwargs(run, out_dir, has_eval, cuda, bf16):
    """DPOConfig's arguments for the run (field names of TRL %TRL%'s DPOConfig and transformers' TrainingArguments).

    loss_type stays "sigmoid": TRL's concatenated_forward divides log-probs by length only for its own "ipo",
    so dpo_loss sees summed log-probs, as the lab's losses do. max_prompt_length None: TRL does not cut prompts (the
    lab drops a pair whose prompt fills maxLength; data_split.json leaves those out). max_length cuts
    prompt + completion keeping the start, as the lab's maxLength does; truncation_mode says so for releases that
    read it (%TRL% truncates right whatever it says).
    """
    return dict(
        output_dir=out_dir,
        beta=run["beta"],
        loss_type="sigmoid",
        max_length=run["maxLength"],
        max_prompt_length=None,
        truncation_mode="keep_start",
        max_steps=run["steps"],
        per_device_train_batch_size=run["batchSize"],
        per_device_eval_batch_size=run["batchSize"],
        gradient_accumulation_steps=run["gradAccum"],
        learning_rate=run["lr"],
        lr_scheduler_type=run["schedule"],
        warmup_steps=run["warmupSteps"],
        weight_decay=run["weightDecay"],
        max_grad_norm=run["maxGradNorm"],
        optim="adamw_torch",
        seed=run["seed"],
        data_seed=run["seed"],
        eval_strategy="steps" if (has_eval and run["evalEvery"] > 0) else "no",
        eval_steps=run["evalEvery"] or None,
        save_strategy="steps",
        save_steps=run["checkpointEvery"] or run["steps"],
        logging_steps=1,
        bf16=bf16,
        gradient_checkpointing=run["finetune"] == "full",
        report_to="none",
    )


def lora_config_kwargs(run):
    """peft.LoraConfig's arguments (r, lora_alpha, lora_dropout, target_modules, task_type), or None for full."""
    if run["finetune"] != "lora":
        return None
    return dict(
        r=run["loraRank"],
        lora_alpha=run["loraAlpha"],
        lora_dropout=run["loraDropout"],
        target_modules=run["loraTargets"] or None,
        task_type="CAUSAL_LM",
    )


def training_rows(run, data, split_file, has_chat_template):
    """The train and held-out rows TRL's DPOTrainer reads: {prompt, chosen, rejected} as text, or as chat messages
    (TRL's conversational preference format) where the run used the tokenizer's chat template."""
    fmt, pairs = load_pairs(data, run["dataFormat"], run["preference"], run["maxPairs"])
    train_pairs, eval_pairs = split_pairs(pairs, run["evalFraction"], run["seed"], split_file)
    eval_pairs = eval_pairs[: run["maxEvalPairs"]]
    if not train_pairs:
        sys.exit("%s: no training pairs left (%d usable pairs)" % (data, len(pairs)))
    chat = run["promptFormat"] == "chat-template" or (run["promptFormat"] == "auto" and has_chat_template and fmt != "saferlhf")
    to_row = (lambda p: as_chat(p, fmt)) if chat else (lambda p: dict(p))
    return fmt, chat, [to_row(p) for p in train_pairs], [to_row(p) for p in eval_pairs]


# The TRL API the subclass below relies on, as read in TRL's trl/trainer/dpo_trainer.py (see README.md, "What was
# checked"): dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps) -> (losses,
# chosen_rewards, rejected_rewards), called from get_batch_loss_metrics(model, batch, train_eval).
DPO_LOSS_PARAMS = ("chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps")


def trl_api_problems(trainer_cls, config_cls, config_kwargs):
    """What, in the installed TRL, does not fit this file: checked at launch so that a different TRL stops with a
    reason before any model loads, instead of training another loss or failing an hour in."""
    problems = []
    fn = getattr(trainer_cls, "dpo_loss", None)
    if fn is None:
        problems.append("DPOTrainer has no dpo_loss method")
    else:
        params = [p for p in inspect.signature(fn).parameters if p != "self"]
        if tuple(params[:4]) != DPO_LOSS_PARAMS:
            problems.append("DPOTrainer.dpo_loss takes (%s), not (%s)" % (", ".join(params), ", ".join(DPO_LOSS_PARAMS)))
    caller = getattr(trainer_cls, "get_batch_loss_metrics", None)
    if caller is None:
        problems.append("DPOTrainer has no get_batch_loss_metrics method")
    else:
        try:
            source = inspect.getsource(caller)
        except (OSError, TypeError):
            source = None
        if source is not None and "self.dpo_loss(" not in source:
            problems.append("DPOTrainer.get_batch_loss_metrics does not call self.dpo_loss")
    init_params = inspect.signature(trainer_cls.__init__).parameters
    for name in ("processing_class", "peft_config", "ref_model"):
        if name not in init_params:
            problems.append("DPOTrainer() takes no %s argument" % name)
    fields = set(getattr(config_cls, "__dataclass_fields__", {}))
    unknown = sorted(k for k in config_kwargs if fields and k not in fields)
    if unknown:
        problems.append("DPOConfig has no field %s" % ", ".join(unknown))
    return problems


# ---------------------------------------------------------------------------------------------------------------
# The TRL-dependent part: a thin DPOTrainer subclass whose dpo_loss is lab_dpo_loss, and main()
# ---------------------------------------------------------------------------------------------------------------
def make_trainer_class(DPOTrainer):
    class DpoLabTrainer(DPOTrainer):
        """DPOTrainer (TRL %TRL%) whose dpo_loss is the lab's RUN["loss"] and whose logged metrics add the lab's
        balance diagnostics (balance/*, eval_balance/*)."""

        _lab_batch_metrics = {}

        def dpo_loss(self, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, *args, **kwargs):
            out, self._lab_batch_metrics = lab_dpo_loss(RUN, self.beta, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps)
            return out

        def get_batch_loss_metrics(self, model, batch, train_eval="train"):
            loss, metrics = super().get_batch_loss_metrics(model, batch, train_eval=train_eval)
            prefix = "eval_" if train_eval == "eval" else ""
            for name, value in self._lab_batch_metrics.items():
                metrics[prefix + name] = self.accelerator.gather_for_metrics(value.reshape(1)).mean().item()
            return loss, metrics

    return DpoLabTrainer


def main():
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    here = os.path.dirname(os.path.abspath(__file__))
    data = os.environ.get("DPO_LAB_DATA", RUN["data"])
    model_path = os.environ.get("DPO_LAB_MODEL", RUN["model"])
    out_dir = os.environ.get("DPO_LAB_OUTPUT", os.path.join(here, "output"))
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    fmt, chat, train_rows, eval_rows = training_rows(RUN, data, os.path.join(here, "data_split.json"), bool(getattr(tokenizer, "chat_template", None)))
    print("format %s, prompt format %s: %d training pairs, %d held-out pairs" % (fmt, "chat-template" if chat else "raw", len(train_rows), len(eval_rows)))

    config_kwargs = dpo_config_kwargs(RUN, out_dir, bool(eval_rows), cuda, bf16)
    problems = trl_api_problems(DPOTrainer, DPOConfig, config_kwargs)
    if problems:
        sys.exit("this job was written for TRL %s (pip install -r requirements.txt); the installed TRL %s differs:\n  %s"
                 % (TRL_VERSION, trl.__version__, "\n  ".join(problems)))
    if trl.__version__ != TRL_VERSION:
        print("warning: this job was written for TRL %s, found %s (its API checks passed)" % (TRL_VERSION, trl.__version__))

    # LoRA: a frozen bf16 base (TRL's reference is the base with the adapter off). Full fine-tuning: float32 weights
    # under bf16 autocast, and a reference model loaded here: TRL's create_reference_model refuses DeepSpeed ZeRO-3.
    dtype = torch.bfloat16 if (bf16 and RUN["finetune"] == "lora") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=dtype)
    ref_model = None if RUN["finetune"] == "lora" else AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=dtype)
    lora = lora_config_kwargs(RUN)
    peft_config = None
    if lora is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(**lora)

    trainer = make_trainer_class(DPOTrainer)(
        model=model,
        ref_model=ref_model,
        args=DPOConfig(**config_kwargs),
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    resume = any(d.startswith("checkpoint-") for d in os.listdir(out_dir)) if os.path.isdir(out_dir) else False
    trainer.train(resume_from_checkpoint=True if resume else None)
    if eval_rows:
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

TRL is pinned in requirements.txt at huggingface/trl commit ${TRL_COMMIT}, the source this file was checked against.

Launch: accelerate launch --config_file accelerate/one_gpu.yaml train.py   (see README.md)
The loss is the lab's own (dpo_lab_losses.py); logs land in output/trainer_state.json under the lab's metric names.
Environment overrides: DPO_LAB_MODEL, DPO_LAB_DATA (paths on the cluster), DPO_LAB_OUTPUT.
"""
import inspect
import os
import sys

import torch

from dpo_lab_data import as_chat, load_pairs, split_pairs
from dpo_lab_losses import dpo_lab_loss, lab_metrics

# TRL, transformers, datasets and peft are imported in main(): the rest of this file needs torch only.

TRL_VERSION = ${JSON.stringify(TRL_VERSION)}

# The run's settings as the lab stored them (src-shared/llm-config.ts); loraTargets resolved to a list.
RUN = ${pyLiteral(run.values)}
`;
  return head + TRAIN_PY_BODY.replaceAll('%TRL%', TRL_VERSION);
}
