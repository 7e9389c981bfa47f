"""A pairwise English judge: a causal language model reads two documents together.

QuRating's raters are judgments of pairs, not of single documents: an LLM is shown text A and
text B and asked which is better on a criterion; the probability it gives each answer is the
soft label. This is that rater, from a local checkpoint:

``python -m models.murating.judge --output <folder> [--translations <folder>]`` loads
``murating.judge_model`` (a transformers causal-LM folder: ``AutoModelForCausalLM`` +
``AutoTokenizer``; for real judgments an instruction-tuned model such as Qwen2.5-1.5B-Instruct
or Llama-3.1-8B-Instruct, downloaded once and mounted by path — nothing is fetched at run
time), draws ``murating.judge_pairs`` pairs of English units (the parallel sources', and the
translate task's when given), and writes ``<output>/judgments.parquet`` (unit_a, unit_b, p =
P(a better than b), p_ab, p_ba, judge). ``spark_jobs.murating.judgments`` adds them to the
Bradley–Terry fit beside the pointwise raters' preferences.

P(A) is the softmax over the next-token logits of " A" and " B" after the prompt. Every pair
is judged in both orders and p = (P_AB(A) + P_BA(B)) / 2, which cancels a judge's preference
for a position (LLM judges favour the first text) — so p(a, b) = 1 − p(b, a) exactly. A GPU
task at scale: 2,000 pairs of two 1,500-character documents are 4,000 prompts of ~900 tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from thresher import entrypoint
from thresher.config import Settings
from thresher.entrypoint import BadInput
from thresher.murating.units import ENGLISH, read_translations
from thresher.text.truncate import truncate

log = logging.getLogger(__name__)
OUTPUT_FILE = "judgments.parquet"
NAME = "pairwise_judge"
PROMPT = (
    "Which of the two texts below has more educational value: is it more informative, better "
    "written and more useful to learn from? Answer with A or B.\n\n"
    "Text A:\n{a}\n\nText B:\n{b}\n\nAnswer:"
)
ANSWERS = (" A", " B")


class PairwiseJudge:
    """``judge(texts_a, texts_b)`` → P(a better than b), position bias cancelled."""

    def __init__(self, model_path: str, max_chars: int = 1500, batch_size: int = 8) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (Path(model_path) / "config.json").is_file():
            raise BadInput(f"no transformers checkpoint at {model_path} (expected config.json)")
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "right"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=dtype)
        self.model.to(self.device).eval()
        self.answers = [self.tokenizer.encode(a, add_special_tokens=False)[0] for a in ANSWERS]
        if self.answers[0] == self.answers[1]:
            raise BadInput(f"{model_path}: the tokenizer gives 'A' and 'B' the same first token")
        self.max_chars, self.batch_size = max_chars, batch_size
        self.version = hashlib.sha256(
            f"{Path(model_path).resolve()}|{PROMPT}|{max_chars}".encode()
        ).hexdigest()[:12]

    def first_choice(self, texts_a: Sequence[str], texts_b: Sequence[str]) -> np.ndarray:
        """P(the judge answers A) for each prompt with text A first, in one order."""
        import torch

        prompts = [
            PROMPT.format(a=truncate(a, self.max_chars), b=truncate(b, self.max_chars))
            for a, b in zip(texts_a, texts_b, strict=True)
        ]
        out = []
        with torch.no_grad():
            for start in range(0, len(prompts), self.batch_size):
                texts = prompts[start : start + self.batch_size]
                batch = self.tokenizer(texts, return_tensors="pt", padding=True).to(self.device)
                logits = self.model(**batch).logits
                last = batch["attention_mask"].sum(1) - 1  # right padding: the prompt's end
                final = logits[torch.arange(len(last)), last][:, self.answers].float()
                out.append(torch.softmax(final, dim=-1)[:, 0].cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str]) -> pd.DataFrame:
        p_ab = self.first_choice(texts_a, texts_b)  # P(A) with a shown first
        p_ba = self.first_choice(texts_b, texts_a)  # P(A) with b shown first = P(b wins)
        return pd.DataFrame({"p": (p_ab + 1 - p_ba) / 2, "p_ab": p_ab, "p_ba": p_ba})


def english_units(settings: Settings, translations: str = "") -> pd.DataFrame:
    """unit_id, text of every English document the judgments step rates, sorted by unit."""
    from thresher.murating.parallel import parallel_documents

    docs = [d for d in parallel_documents(settings) if d.language == ENGLISH]
    if translations:
        docs += [d for d in read_translations(translations) if d.language == ENGLISH]
    frame = pd.DataFrame({"unit_id": [d.unit_id for d in docs], "text": [d.text for d in docs]})
    return frame.drop_duplicates("unit_id").sort_values("unit_id", ignore_index=True)


def sample_pairs(n_units: int, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n_pairs`` distinct unordered pairs of different units, uniformly at random."""
    rng = np.random.default_rng([seed, 17])
    total = n_units * (n_units - 1) // 2
    if n_units < 2 or n_pairs <= 0:
        return np.zeros(0, int), np.zeros(0, int)
    seen: set[tuple[int, int]] = set()
    while len(seen) < min(n_pairs, total):
        a, b = rng.integers(0, n_units, 2)
        if a != b:
            seen.add((int(min(a, b)), int(max(a, b))))
    pairs = np.array(sorted(seen))
    swap = rng.random(len(pairs)) < 0.5  # which unit is "a" should not follow the sort
    return np.where(swap, pairs[:, 1], pairs[:, 0]), np.where(swap, pairs[:, 0], pairs[:, 1])


def main(argv: Sequence[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.murating.judge")
    parser.add_argument("--output", required=True, help="folder; relative = under checkpoint root")
    parser.add_argument("--translations", default="", help="a translate task's output folder")
    parser.add_argument("--model", default="", help="default: murating.judge_model")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    config = settings.murating
    model = args.model or config.judge_model
    if not model:
        raise BadInput("no judge: set THRESHER_MURATING_JUDGE_MODEL or give --model <folder>")
    translations = (
        str(entrypoint.task_path(args.translations, settings)) if args.translations else ""
    )
    units = english_units(settings, translations)
    a, b = sample_pairs(len(units), config.judge_pairs, config.seed)
    judge = PairwiseJudge(model, config.judge_max_chars)
    judged = judge.judge(units.text.to_numpy()[a].tolist(), units.text.to_numpy()[b].tolist())
    judged.insert(0, "unit_a", units.unit_id.to_numpy()[a])
    judged.insert(1, "unit_b", units.unit_id.to_numpy()[b])
    judged["judge"] = f"{NAME}@{judge.version}"
    path = entrypoint.write_table_output(judged, args.output, settings, OUTPUT_FILE)
    return {
        "judgments_path": str(path),
        "pairs": len(judged),
        "judge": f"{NAME}@{judge.version}",
        "units": len(units),
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    entrypoint.run_entry_point(main)
