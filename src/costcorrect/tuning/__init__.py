"""SLO-aware autotuning and calibration on the simulator (issue 5).

- :mod:`space` — space files: dotted scenario keys → values, SLO bins, settings;
  grid expansion minus combinations that do not apply.
- :mod:`capacity` — capacity and CPM_served of one deployment at every SLO bin from
  shared simulations, beside paper 01's closed-form estimate.
- :mod:`execute` — local process pool or Ray; :mod:`store` — resumable Parquet parts.
- :mod:`tune` — grid and successive-halving searches, cheapest per bin, Pareto set.
- :mod:`calibrate` — fit MFU/MBU/overhead to a measured run, write a labelled overlay.
"""

from costcorrect.tuning.space import Space, load_space, space_from_dict

__all__ = ["Space", "load_space", "space_from_dict"]
