"""Cost per correct answer and the decisions built on it (papers 02, 03, 04, 08; notes 10, 11, 13).

- :mod:`.cost_correct` -- the unit C = CPM_1:1 · R · (1+ρ̄) / α, partials, elasticities,
  the verifier-can-be-smaller calculator, tornado rows (02 §4, 03, 08).
- :mod:`.logs` -- eval logs → R, ρ̄, α with task-bootstrap intervals; unbiased pass@k.
- :mod:`.prices` -- dated model API prices with sources (02 §7, 08 Table 1).
- :mod:`.threshold` -- training vs test-time threshold and its calibration (04).
- :mod:`.harvest` -- rollouts on harvested serving slack, three-channel threshold (10).
- :mod:`.energy` -- decode energy as an operator-cost term (11).
- :mod:`.curriculum` -- cost per useful problem in three-party self-play (13).
- :mod:`.charts` -- tornado and (T, ρ) plane chart specs.
"""

from costcorrect.allocation.cost_correct import (
    additive_change_share,
    cost_correct_partials,
    cost_correct_usd_per_mtok,
    cost_elasticities,
    cost_per_correct_answer_usd,
    cpm_1to1_usd_per_mtok,
    max_verifier_cost_ratio,
    tornado_rows,
    vcpd_usd_per_mtok,
)

__all__ = [
    "additive_change_share",
    "cost_correct_partials",
    "cost_correct_usd_per_mtok",
    "cost_elasticities",
    "cost_per_correct_answer_usd",
    "cpm_1to1_usd_per_mtok",
    "max_verifier_cost_ratio",
    "tornado_rows",
    "vcpd_usd_per_mtok",
]
