"""Make examples/eval-log.jsonl: a SYNTHETIC eval log (no model was run).

Two models from the price catalog x two task classes x 80 tasks. Each task has a latent
per-attempt success probability (Beta-distributed, harder for math); attempts stop at the
first verifier accept or after 4 tries (verifier-conditional rollouts, 03 §7 item 6). The
verifier accepts a correct answer with probability 0.95 and a wrong one with 0.04, so
`correct` (ground truth) and `accepted` (verifier) differ on a few rows. Reasoning tokens
are a lognormal multiple of the answer length (median R = 12 for math, 4 for code).

    .venv/bin/python examples/make_eval_log.py            # rewrites examples/eval-log.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from costcorrect.io import atomic_write_text

SEED = 20261123
MODELS = {"deepseek-v4-flash": 0.0, "gpt-5.4-mini": 0.6}  # skill shift on the logit scale
CLASSES = {"math": (2.0, 3.0, 12.0), "code": (3.0, 2.0, 4.0)}  # Beta(a, b) success, median R
TASKS_PER_CLASS = 80
MAX_ATTEMPTS = 4


def make_rows(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for model, skill in MODELS.items():
        for task_class, (a, b, r_median) in CLASSES.items():
            for i in range(TASKS_PER_CLASS):
                p = rng.beta(a, b)
                p = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + skill)))
                input_tokens = int(rng.integers(200, 900))
                for attempt in range(1, MAX_ATTEMPTS + 1):
                    correct = bool(rng.random() < p)
                    accepted = bool(rng.random() < (0.95 if correct else 0.04))
                    answer = int(rng.integers(80, 400))
                    output = int(answer * max(1.0, rng.lognormal(np.log(r_median), 0.5)))
                    rows.append({"task_id": f"{task_class}-{i:03d}", "attempt": attempt,
                                 "input_tokens": input_tokens, "output_tokens": output,
                                 "answer_tokens": answer, "accepted": accepted, "correct": correct,
                                 "model": model, "task_class": task_class})
                    if accepted:
                        break
    return rows


def main() -> None:
    out = Path(__file__).with_name("eval-log.jsonl")
    atomic_write_text(out, "".join(json.dumps(r) + "\n" for r in make_rows()))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
