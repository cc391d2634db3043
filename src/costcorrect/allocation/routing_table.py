"""Paper 05 Table 1: the six published systems' calibration rows, recomputed.

Each row's disclosed observable becomes Π (speedup S: Π = 1 − 1/S, Cor. 1; cost or token
reduction r: Π = r), κΔ = Π + γ (paired ends, as the paper does), the eq. 9 elasticity
ε_κ = κΔ/Π, and ``flip_drop`` = Π/κΔ, the relative drop in κΔ (or κ, or Δ) that flips the
sign of Π at the band's worst end (Π low, γ high). A row is flagged as inside the divergence
band when a ``flip_drop_threshold`` (default 20 %, the paper's CALM reading) drop flips it.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from costcorrect.allocation.routing import premium_elasticities
from costcorrect.allocation.routing_special import premium_from_speedup

__all__ = ["load_routing_systems", "table1_rows"]


def load_routing_systems() -> pd.DataFrame:
    """The shipped Table 1 rows (``catalog/data/routing_systems.csv``, sourced per row)."""
    path = resources.files("costcorrect.catalog") / "data" / "routing_systems.csv"
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"as_of": str})


def _premium(kind: str, lo, hi):
    if kind == "speedup":
        return float(premium_from_speedup(lo)), float(premium_from_speedup(hi))
    if kind in ("cost_reduction", "token_reduction"):
        return float(lo), float(hi)
    return None, None


def table1_rows(df: pd.DataFrame | None = None, flip_drop_threshold: float = 0.2) -> list[dict]:
    """Computed Table 1: Π band, κΔ band, elasticity bar, sign and divergence-band flag per row."""
    df = load_routing_systems() if df is None else df
    out = []
    for r in df.to_dict("records"):
        p_lo, p_hi = _premium(r["observable_kind"], r["observable_low"], r["observable_high"])
        row = {"id": r["id"], "system": r["system"], "allocation_class": r["allocation_class"],
               "disclosed_metric": r["disclosed_metric"], "gamma_low": r["gamma_low"],
               "gamma_high": r["gamma_high"], "premium_low": p_lo, "premium_high": p_hi,
               "paper_premium_low": _nan_none(r["paper_premium_low"]),
               "paper_premium_high": _nan_none(r["paper_premium_high"])}
        if p_lo is None:
            row.update(kappa_delta_low=None, kappa_delta_high=None, elasticity_kappa_low=None,
                       elasticity_kappa_high=None, flip_drop=None, sign="+ (asserted, not computable)",
                       in_divergence_band=None)
        else:
            kd_lo, kd_hi = p_lo + r["gamma_low"], p_hi + r["gamma_high"]
            e_lo = float(premium_elasticities(1.0, kd_lo, r["gamma_low"])["kappa"])
            e_hi = float(premium_elasticities(1.0, kd_hi, r["gamma_high"])["kappa"])
            flip = p_lo / (p_lo + r["gamma_high"])  # worst end: Π low with γ high
            row.update(kappa_delta_low=kd_lo, kappa_delta_high=kd_hi, elasticity_kappa_low=e_lo,
                       elasticity_kappa_high=e_hi, flip_drop=flip,
                       sign="+" if p_lo > 0 else ("-" if p_hi < 0 else "+/-"),
                       in_divergence_band=bool(flip <= flip_drop_threshold))
        out.append(row)
    return out


def _nan_none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)
