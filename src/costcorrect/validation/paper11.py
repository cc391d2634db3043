"""Note 11 (The Power-Cap Illusion): every computable statement, recomputed."""

from __future__ import annotations

from costcorrect.allocation import energy as en
from costcorrect.validation.registry import Claim, Context, register


def _decode_share(ctx: Context) -> list[float]:
    tdp = float(ctx.catalog.gpu("h200-sxm")["tdp_w"])
    return [round(en.H200_DECODE_POWER_W["low"] / tdp, 3), round(en.H200_DECODE_POWER_W["high"] / tdp, 3)]


register(Claim(
    "11-decode-below-cap", "11", "What it claims", "Decode draws 137-300 W of a 700 W H200, so no cap at TDP binds",
    "< 1", "share of TDP", "model", _decode_share, check=lambda v: v[1] < 1,
    note="0.196-0.429 of the catalog's 700 W; any cap above 300 W never triggers.",
))
register(Claim(
    "11-clock-lock-32pct", "11", "What it claims", "Decode energy factor after 'up to 32%' recovery", 0.68, "-",
    "arithmetic", lambda c: float(en.decode_energy_usd_per_mtok(300, 1, 1, 1, en.SM_CLOCK_LOCK_DECODE_ENERGY_RECOVERY[
        "value"]) / en.decode_energy_usd_per_mtok(300, 1, 1, 1)), decimals=2,
))
