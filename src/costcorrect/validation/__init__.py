"""The claims registry: one entry per computable number in the papers.

Every ``validation/paperNN.py`` module is imported here and registers its claims on import,
so adding a paper's claims never needs an edit to this file.
"""

import importlib
import pkgutil

from costcorrect.validation.registry import CLAIMS, Claim, ClaimResult, evaluate, register


def _import_paper_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("paper"):
            importlib.import_module(f"{__name__}.{info.name}")


_import_paper_modules()

__all__ = ["CLAIMS", "Claim", "ClaimResult", "evaluate", "register"]
