"""Note 13 (The Verifier as Curriculum): every computable statement, recomputed."""

from __future__ import annotations

from costcorrect.allocation import curriculum as cu
from costcorrect.validation.registry import Claim, register

register(Claim(
    "13-invalid-zero-reward", "13", "What it claims", "Invalid problems get zero setter reward however hard", 0.0, "-",
    "model", lambda c: float(cu.setter_reward(False, 0.0)), decimals=6,
))
register(Claim(
    "13-stronger-solver-larger-lift", "13", "What it claims", "Stronger solvers gain more: Qwen3-14B after VHG "
    "(49.23% integration, 41.50% general) vs Qwen3-4B after VHG (69.4%, 69.0%)", "14B >= 4B", "pp", "model",
    lambda c: [round(49.23 - 69.4, 2), round(41.50 - 69.0, 2)], check=lambda v: min(v) >= 0,
    expected_status="not-reproduced",
    note="The quoted 14B numbers sit 20-28 points below the 4B post-VHG numbers and no 14B baseline is given, "
         "so 'larger lifts for stronger solvers' cannot be checked from the note (the sets may differ).",
))
