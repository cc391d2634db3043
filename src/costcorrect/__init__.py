"""costcorrect: inference economics.

CPM_served (cost per million SLO-compliant served tokens, paper 01) and, on top of it,
cost per correct answer. Model functions live in :mod:`costcorrect.serving`; sourced
data in :mod:`costcorrect.catalog`; the command line in :mod:`costcorrect.cli`.
"""

__version__ = "0.1.0"

from costcorrect.errors import InputError

__all__ = ["InputError", "__version__"]
