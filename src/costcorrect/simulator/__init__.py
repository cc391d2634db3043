"""First-principles serving simulator (issue 4): SLO goodput and CPM_served from the mechanism.

Layers: :mod:`config` (scenario), :mod:`predictor` (iteration time), :mod:`workload`
(arrivals, lengths, traces), :mod:`engine` (entities, schedulers, event loop),
:mod:`metrics` (records, percentiles), :mod:`run` (build, simulate, find capacity).
"""

from costcorrect.simulator.config import SimScenario, apply_sim_overrides, load_sim_scenario, sim_scenario_from_dict
from costcorrect.simulator.run import SimResult, build_deployment, find_capacity, simulate

__all__ = ["SimResult", "SimScenario", "apply_sim_overrides", "build_deployment", "find_capacity",
           "load_sim_scenario", "sim_scenario_from_dict", "simulate"]
