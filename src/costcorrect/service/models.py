"""Request bodies of the procurement API (strict: no type coercion, no unknown keys)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="64 lower-case hex digits (SHA-256)")]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")]
ItemId = Annotated[str, Field(min_length=1, max_length=200)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]
Salt = Annotated[str, Field(min_length=16, max_length=512,
                            description="random string, >= 16 characters (use >= 128 bits of entropy)")]

MAX_ITEMS = 100_000
MAX_VENDORS = 1_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ItemIn(_Strict):
    item_id: ItemId
    payload: JsonValue = Field(description="the probe shown to vendors (any JSON; never the label)")


class PaymentIn(_Strict):
    """``{a, b}`` [USD] of ``t = a + b·mean S`` — or a cap/budget/reservation to derive them."""

    a: float | None = Field(None, description="fixed part a >= 0 [USD]")
    b: float | None = Field(None, description="score multiplier b > 0 [USD per unit mean score]")
    per_probe_cap_usd: float | None = Field(None, gt=0)
    budget_usd: float | None = Field(None, gt=0)
    reservation_usd: float | None = Field(None, ge=0)


class RoundIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    rule: Literal["brier", "quadratic", "log", "spherical"]
    vendors: Annotated[list[Name], Field(min_length=1, max_length=MAX_VENDORS)]
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    label_commitment: Hex64
    payment: PaymentIn
    mode: Literal["single", "joint"] = Field(
        "single", description="single: one verifier per candidate (06 §4); joint: a candidate is a pair "
                              "reporting a joint distribution over both slots' decisions (07 §5)")
    composition: Literal["AND", "OR"] = Field("AND", description="joint rounds: how the pipeline composes "
                                                                 "the two slots (recorded; 07 §2)")


class CommitmentIn(_Strict):
    commitment: Hex64


class ReportIn(_Strict):
    item_id: ItemId
    prob: Prob | Annotated[list[Prob], Field(min_length=4, max_length=4)] = Field(
        description="single rounds: P(label = 1); joint rounds: [q00, q01, q10, q11] summing to 1")


class RevealIn(_Strict):
    salt: Salt
    reports: Annotated[list[ReportIn], Field(min_length=1, max_length=MAX_ITEMS)]


class LabelIn(_Strict):
    item_id: ItemId
    label: Annotated[int, Field(ge=0, le=1)] | Annotated[list[Annotated[int, Field(ge=0, le=1)]],
                                                          Field(min_length=2, max_length=2)] = Field(
        description="single rounds: 0 or 1; joint rounds: [r1, r2], each 0 or 1")


class LabelsIn(_Strict):
    salt: Salt
    labels: Annotated[list[LabelIn], Field(min_length=1, max_length=MAX_ITEMS)]
