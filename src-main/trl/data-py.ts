/**
 * dpo_lab_data.py of an exported TRL job: the lab's data loaders (src-main/engine/llm/data: HH prompt extraction,
 * PKU-SafeRLHF better/safer, generic prompt/chosen/rejected) and its split, in plain Python (pyarrow for Parquet only),
 * so train.py trains on the pairs the lab run did. Checked against loadPreferenceFile in test/unit/trl-export.test.ts.
 */
export const DATA_PY = String.raw`"""DPO Lab's preference-data loaders in plain Python (exported by lab export-trl); pyarrow only for Parquet."""
import gzip
import json
import os
import random
import re
import sys

# ---------------------------------------------------------------------------------------------------------------
# Data: the lab's loaders (src-main/engine/llm/data), same pairs, same skips
# ---------------------------------------------------------------------------------------------------------------
ASSISTANT = "\n\nAssistant:"


def safe_rlhf_prompt(prompt):
    return "BEGINNING OF CONVERSATION: USER: %s ASSISTANT:" % prompt


def read_rows(path):
    """Records of a JSONL(.gz), CSV (header row) or Parquet file, in file order."""
    low = path.lower()
    base = low[:-3] if low.endswith(".gz") else low
    if base.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    opener = gzip.open if low.endswith(".gz") else open
    if base.endswith(".csv"):
        import csv

        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    rows = []
    with opener(path, "rt", encoding="utf-8-sig") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                v = json.loads(line)
            except ValueError:
                rows.append(None)
                continue
            rows.append(v if isinstance(v, dict) else None)
    return rows


def detect_format(row):
    if "response_0" in row and "response_1" in row:
        return "saferlhf"
    if "prompt" in row and "chosen" in row and "rejected" in row:
        return "generic"
    if "chosen" in row and "rejected" in row:
        return "hh"
    return None


def _checked(prompt, chosen, rejected):
    if not isinstance(chosen, str) or not isinstance(rejected, str) or not chosen.strip() or not rejected.strip():
        return None
    if chosen == rejected:
        return None
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def _hh_split(text):
    i = text.rfind(ASSISTANT)
    if i < 0:
        return None
    return text[: i + len(ASSISTANT)], text[i + len(ASSISTANT) :]


def _flag(v):
    if isinstance(v, bool):
        return v
    if v in (0, 1):
        return v == 1
    if v in ("true", "false", "True", "False"):
        return v.lower() == "true"
    return None


def read_pair(row, fmt, preference):
    """One record as {prompt, chosen, rejected}, or None where the lab skips it."""
    if not isinstance(row, dict):
        return None
    if fmt == "hh":
        if not isinstance(row.get("chosen"), str) or not isinstance(row.get("rejected"), str):
            return None
        c, r = _hh_split(row["chosen"]), _hh_split(row["rejected"])
        if c is None or r is None or c[0] != r[0]:
            return None
        return _checked(c[0], c[1], r[1])
    if fmt == "saferlhf":
        prompt, r0, r1 = row.get("prompt"), row.get("response_0"), row.get("response_1")
        if not all(isinstance(x, str) for x in (prompt, r0, r1)):
            return None
        field = "better_response_id" if preference == "better" else "safer_response_id"
        try:
            rid = int(row.get(field))
        except (TypeError, ValueError):
            return None
        if rid not in (0, 1) or _flag(row.get("is_response_0_safe")) is None or _flag(row.get("is_response_1_safe")) is None:
            return None
        chosen, rejected = (r0, r1) if rid == 0 else (r1, r0)
        return _checked(safe_rlhf_prompt(prompt), chosen, rejected)
    if not all(isinstance(row.get(k), str) for k in ("prompt", "chosen", "rejected")):
        return None
    return _checked(row["prompt"], row["chosen"], row["rejected"])


def load_pairs(path, fmt, preference, max_pairs):
    rows = read_rows(path)
    if fmt == "auto":
        fmt = next((f for f in (detect_format(r) for r in rows if isinstance(r, dict)) if f), None)
        if fmt is None:
            sys.exit("%s: no usable rows (no record fits prompt/chosen/rejected, HH chosen/rejected or PKU-SafeRLHF)" % path)
    pairs = [p for p in (read_pair(r, fmt, preference) for r in rows) if p is not None]
    if max_pairs > 0:
        pairs = pairs[:max_pairs]
    return fmt, pairs


def split_pairs(pairs, eval_fraction, seed, split_file):
    """The lab's split when the export recorded it (data_split.json: the same train and held-out pairs as the lab run),
    else a seeded split of the same size (not the lab's shuffle)."""
    if os.path.exists(split_file):
        with open(split_file) as f:
            split = json.load(f)
        if split.get("pairs") == len(pairs):
            # pair indices in file order; pairs the lab dropped at tokenization are in neither list
            return [pairs[i] for i in split["train"]], [pairs[i] for i in split["eval"]]
        print("warning: %s was recorded for %s pairs, the data has %d; using a seeded split" % (split_file, split.get("pairs"), len(pairs)))
    n = len(pairs)
    k = min(int(round(n * eval_fraction)), max(0, n - 1))
    if eval_fraction > 0 and n >= 2:
        k = max(1, k)
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    held = set(idx[:k])
    return [p for i, p in enumerate(pairs) if i not in held], [p for i, p in enumerate(pairs) if i in held]


def hh_messages(prompt):
    """HH turns as chat messages, without the open Assistant turn at the end (pair-tokens.ts hhMessages)."""
    marks = list(re.finditer(r"\n\n(Human|Assistant):", prompt))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(prompt)
        content = prompt[m.end() : end].strip()
        if content or i + 1 < len(marks):
            out.append({"role": "user" if m.group(1) == "Human" else "assistant", "content": content})
    if out and out[-1]["role"] == "assistant" and not out[-1]["content"]:
        out.pop()
    return out or [{"role": "user", "content": prompt.strip()}]


def as_chat(pair, fmt):
    if fmt == "hh":
        messages = hh_messages(pair["prompt"])
    elif fmt == "saferlhf":
        m = re.match(r"^BEGINNING OF CONVERSATION: USER: ([\s\S]*) ASSISTANT:$", pair["prompt"])
        messages = [{"role": "user", "content": m.group(1) if m else pair["prompt"]}]
    else:
        messages = [{"role": "user", "content": pair["prompt"]}]
    return {
        "prompt": messages,
        "chosen": [{"role": "assistant", "content": pair["chosen"].lstrip()}],
        "rejected": [{"role": "assistant", "content": pair["rejected"].lstrip()}],
    }
`;
