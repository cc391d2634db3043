"""Validation registry: each claim computes our value and compares it with the paper's.

Status rules (decided here, never by hand):
- ``reproduced``: our value matches the paper's within the claim's tolerance (``decimals``:
  equal after rounding to the precision the paper printed; ``rel_tol``: relative error;
  ``check``: a predicate on our value, for claims such as "> 0.95" or "True").
- ``erratum``: an arithmetic or citation claim that does not match; our value is the
  correct one and ``note`` says what went wrong.
- ``not-reproduced``: a model claim that does not match; ``note`` gives the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

Kind = Literal["arithmetic", "citation", "model"]
STATUSES = ("reproduced", "erratum", "not-reproduced")


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str  # "01"
    section: str  # "§4.3"
    description: str
    paper_value: Any
    unit: str
    kind: Kind
    compute: Callable[[Context], Any]
    decimals: int | None = None
    rel_tol: float | None = None
    check: Callable[[Any], bool] | None = None
    note: str = ""  # why it is an erratum / not reproduced, or context
    expected_status: str = "reproduced"  # the documented finding, asserted by the tests

    @property
    def source(self) -> str:
        return f"paper {self.paper} {self.section}"


@dataclass
class ClaimResult:
    claim: Claim
    computed_value: Any
    status: str
    note: str

    def as_dict(self) -> dict:
        c = self.claim
        return {
            "id": c.id, "source": c.source, "description": c.description,
            "paper_value": c.paper_value, "computed_value": self.computed_value, "unit": c.unit,
            "status": self.status, "note": self.note,
        }


CLAIMS: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in CLAIMS:
        raise ValueError(f"duplicate claim id {claim.id}")
    CLAIMS[claim.id] = claim
    return claim


@dataclass
class Context:
    """Shared, lazily built inputs for claims: the shipped catalog and default scenario."""

    extras: dict = field(default_factory=dict)

    @cached_property
    def catalog(self):
        from costcorrect.catalog import Catalog

        return Catalog.load()

    @cached_property
    def scenario(self):
        from costcorrect.scenario import load_scenario

        return load_scenario()


def _matches(claim: Claim, value) -> bool:
    if claim.check is not None:
        return bool(claim.check(value))
    if value is None:
        return False
    if claim.decimals is not None:
        return round(float(value), claim.decimals) == round(float(claim.paper_value), claim.decimals)
    if claim.rel_tol is not None:
        return abs(float(value) - float(claim.paper_value)) <= claim.rel_tol * abs(float(claim.paper_value))
    return value == claim.paper_value


def evaluate(paper: str | None = None, ctx: Context | None = None) -> list[ClaimResult]:
    ctx = ctx or Context()
    out = []
    for claim in CLAIMS.values():
        if paper is not None and claim.paper != paper:
            continue
        value = claim.compute(ctx)
        if isinstance(value, float):
            value = float(f"{value:.6g}")
        if _matches(claim, value):
            status = "reproduced"
        else:
            status = "not-reproduced" if claim.kind == "model" else "erratum"
        out.append(ClaimResult(claim, value, status, claim.note))
    return out
