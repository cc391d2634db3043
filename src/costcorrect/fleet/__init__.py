"""Fleet procurement (issue 12, note 09): many models on heterogeneous GPUs, jointly.

- :mod:`.spec` -- the fleet file (pydantic models loaded from YAML).
- :mod:`.capacity` -- capacity per (model, GPU, config) at the SLO: table (tuner format),
  closed form (paper 01) or simulator (cached); and the solver-ready :class:`Instance`.
- :mod:`.milp` -- the mixed-integer program (``scipy.optimize.milp`` / HiGHS), its restricted
  variants and the two-stage decomposition.
- :mod:`.analysis` -- the joint plan, savings breakdown, scarcity re-solves, infeasibility.
- :mod:`.synthetic` -- synthetic fleets (6/20/50 models × 20 GPU configurations).
- :mod:`.charts` -- the savings waterfall (Altair).
"""

from costcorrect.fleet.analysis import (
    diagnose_infeasible,
    gap_report,
    plan,
    savings_breakdown,
    scarcity,
    shapley3,
    solution_summary,
)
from costcorrect.fleet.capacity import (
    Instance,
    build_instance,
    cached_find_capacity,
    capacity_frame,
    closed_form_capacity_rate_per_s,
    read_capacity_table,
    spot_availability,
)
from costcorrect.fleet.milp import Solution, solve, solve_program, solve_restricted, solve_two_stage
from costcorrect.fleet.spec import CAPACITY_COLUMNS, FleetSpec, fleet_from_dict, load_fleet

__all__ = [
    "CAPACITY_COLUMNS", "FleetSpec", "Instance", "Solution", "build_instance", "cached_find_capacity",
    "capacity_frame", "closed_form_capacity_rate_per_s", "diagnose_infeasible", "fleet_from_dict",
    "gap_report", "load_fleet", "plan", "read_capacity_table", "savings_breakdown", "scarcity", "shapley3",
    "solution_summary", "solve", "solve_program", "solve_restricted", "solve_two_stage", "spot_availability",
]
