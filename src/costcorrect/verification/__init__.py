"""Verifier procurement (paper 06): scoring rules, the mechanism, baselines, probe design
and the §7 simulation.

Modules
-------
* :mod:`~costcorrect.verification.rules` — ``score(rule, reports, outcomes)`` for
  ``brier``, ``quadratic``, ``log``, ``spherical`` (binary ``(..., N)`` or categorical
  ``(..., N, M)``), ``score_bounds``, ``expected_score``.
* :mod:`~costcorrect.verification.mechanism` — ``run_mechanism(reports (K, N), outcomes (N,),
  rule, budget_usd=, per_probe_cap_usd=, reservation_usd=) -> MechanismResult``;
  ``payment_constants``; Cost-correct translation ``gap_pct``/``cost_correct_usd``; baselines
  ``posted_price_equilibrium``, ``random_choice``, ``public_benchmark_choice``;
  ``sample_size``; ``bootstrap_selection``.
* :mod:`~costcorrect.verification.probes` — ``select_uniform``, ``select_maximin_entropy``,
  ``select_hard_instances``, ``construction_cost_usd``, ``probe_cost_decomposition``.
* :mod:`~costcorrect.verification.runner` — the generic sweep runner
  ``run_grid(cell_fn, grid, seeds=, seed_chunk=, backend="local"|"ray", workers=, out_dir=,
  progress=)``. ``cell_fn(params: dict, seeds: np.ndarray) -> DataFrame | list[dict]`` is a
  module-level function that evaluates one grid cell for a block of seeds, vectorised over
  seeds, drawing each seed's randomness from its own generator (results independent of
  chunking). Finished tasks go to ``out_dir/parts/*.parquet`` and are skipped on rerun
  (resumable). Paper 07 (composition) and the autotuner reuse it with their own ``cell_fn``.
* :mod:`~costcorrect.verification.simulate` — the §7 analogue: ``simulate_cell`` (a
  ``cell_fn``), ``run_sweep``, ``table1``, ``summarize``, ``regret_constant``,
  ``worst_case_regret``, ``fit_rate``.
* :mod:`~costcorrect.verification.datamode` — ``procure(reports_df, labels_df, rule)`` for
  the ``costcorrect procure run`` command.
* :mod:`~costcorrect.verification.humaneval` — the real probe set (HumanEval problems,
  AST mutants, sandboxed execution, real verifiers).
"""

from costcorrect.verification.mechanism import MechanismResult, run_mechanism
from costcorrect.verification.rules import RULES, score

__all__ = ["RULES", "MechanismResult", "run_mechanism", "score"]
