"""Cost per accepted training problem in three-party self-play (note 13, VHG).

Note 13 (Lai, Feng, Teh, Miao 2026, arXiv:2605.06660): a setter proposes problems, a
verifier gates validity, a solver's accuracy sets difficulty; the setter's reward is
1[verifier accepts] × (1 − solver accuracy). The note's missing quantity is the token cost
of a *useful* problem and the iso-compute comparison. Per candidate:

    cost = p_set·t_set + p_ver·t_ver + (α if the solver only sees accepted problems else 1)·p_sol·k·t_sol

and per useful, valid problem: cost / (α · (1 − f) · u), with α the verifier's accept rate,
f the share of accepted problems that are actually invalid (false accepts; 0 for a hard
verifier such as SymPy on integrals) and u the share of valid accepted problems that are
useful (not trivially easy for the solver). Prices in $/MTok, tokens per candidate.
"""

from __future__ import annotations

import numpy as np

from costcorrect import units

__all__ = ["candidate_cost_usd", "cost_per_useful_problem_usd", "iso_compute", "setter_reward"]


def setter_reward(verifier_accepts, solver_accuracy):
    """VHG setter reward 1[accept] × (1 − solver accuracy) (note 13). [-]

    >>> [float(x) for x in setter_reward([True, False], [0.2, 0.0])]  # invalid-but-hard earns 0
    [0.8, 0.0]
    """
    return np.asarray(verifier_accepts, dtype=float) * (1.0 - np.asarray(solver_accuracy, dtype=float))


def candidate_cost_usd(*, setter_tokens, verifier_tokens, solver_tokens, solver_attempts,
                       setter_usd_per_mtok, verifier_usd_per_mtok, solver_usd_per_mtok,
                       accept_rate, solver_on_accepted_only=True):
    """Dollars spent per candidate problem across setter, verifier and solver (note 13). [$]

    >>> round(float(candidate_cost_usd(setter_tokens=1000, verifier_tokens=0, solver_tokens=2000,
    ...     solver_attempts=8, setter_usd_per_mtok=1.0, verifier_usd_per_mtok=0.0,
    ...     solver_usd_per_mtok=0.5, accept_rate=0.5)), 6)
    0.005
    """
    solver_share = np.asarray(accept_rate, dtype=float) if solver_on_accepted_only else 1.0
    tokens_usd = (np.asarray(setter_tokens, dtype=float) * setter_usd_per_mtok
                  + np.asarray(verifier_tokens, dtype=float) * verifier_usd_per_mtok
                  + solver_share * np.asarray(solver_attempts, dtype=float) * np.asarray(solver_tokens, dtype=float)
                  * solver_usd_per_mtok)
    return tokens_usd / units.TOKENS_PER_MTOK


def cost_per_useful_problem_usd(candidate_cost_usd, accept_rate, useful_share, false_accept_rate=0.0):
    """Dollars per useful, valid training problem: cost / (α (1 − f) u) (note 13). [$]

    α = 0, u = 0 or f = 1 give ``inf`` (no useful problem is ever produced).

    >>> round(float(cost_per_useful_problem_usd(0.005, 0.5, 0.5, 0.2)), 6)
    0.025
    """
    yield_ = (np.asarray(accept_rate, dtype=float) * (1.0 - np.asarray(false_accept_rate, dtype=float))
              * np.asarray(useful_share, dtype=float))
    with np.errstate(divide="ignore"):
        return np.where(yield_ > 0, np.asarray(candidate_cost_usd, dtype=float) / np.where(yield_ > 0, yield_, 1),
                        np.inf)


def iso_compute(budget_usd, cost_per_useful_usd: dict) -> dict:
    """Useful problems each pipeline buys with the same budget, and each one's ratio to the best (note 13). [-]

    >>> iso_compute(1.0, {"hard": 0.02, "soft": 0.025})["problems"]
    {'hard': 50.0, 'soft': 40.0}
    """
    problems = {k: float(budget_usd / v) if np.isfinite(v) and v > 0 else 0.0 for k, v in cost_per_useful_usd.items()}
    best = max(problems.values()) if problems else 0.0
    return {"budget_usd": float(budget_usd), "problems": problems,
            "ratio_to_best": {k: (v / best if best > 0 else None) for k, v in problems.items()}}
