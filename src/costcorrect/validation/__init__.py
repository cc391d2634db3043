"""The claims registry: one entry per computable number in the papers."""

from costcorrect.validation.registry import CLAIMS, Claim, ClaimResult, evaluate, register

# Importing a paper module registers its claims.
from costcorrect.validation import paper01  # noqa: F401  isort: skip

__all__ = ["CLAIMS", "Claim", "ClaimResult", "evaluate", "register"]
