"""Paper 08 (The Inference Stack in 2026): every computable number, recomputed."""

from __future__ import annotations

from costcorrect import units
from costcorrect.allocation.prices import load_model_prices, model_price
from costcorrect.validation.registry import Claim, register


def _cpm(model_id: str) -> float:
    return float(model_price(load_model_prices(), model_id)["cpm_1to1_usd_per_mtok"])


for model_id, printed, dec in (("gpt-4-8k", 45.00, 2), ("gpt-4-32k", 90.00, 2), ("gpt-4o-mini", 0.375, 3),
                               ("gpt-4.1", 5.00, 2), ("gpt-5.4-nano", 0.725, 3), ("gpt-5.4-mini", 2.625, 3),
                               ("gpt-5.4", 8.75, 2), ("gpt-5.5", 17.50, 2)):
    register(Claim(
        f"08-cpm-{model_id}", "08", "Table 1", f"CPM_1:1 of {model_id}", printed, "$/MTok", "arithmetic",
        (lambda m: lambda c: _cpm(m))(model_id), decimals=dec,
    ))

register(Claim(
    "08-gpt55-2x", "08", "§1", "GPT-5.5 over GPT-5.4 CPM_1:1 (a '2x increase')", 2.0, "x", "arithmetic",
    lambda c: _cpm("gpt-5.5") / _cpm("gpt-5.4"), decimals=2,
))
register(Claim(
    "08-stanford-280", "08", "§1, FAQ", "GPT-3.5-level price fall $20.00 -> $0.07 ('280-fold', 'more than 280')",
    "> 280", "x", "citation", lambda c: 20.00 / 0.07, check=lambda v: v >= 280, note="20 / 0.07 = 285.7.",
))
register(Claim(
    "08-stack-90", "08", "v3.0 note", "Four stack factors 4 x 3 x 2.5 x 3", 90, "x", "arithmetic",
    lambda c: 4 * 3 * 2.5 * 3, decimals=0,
))
register(Claim(
    "08-stack-times-arch", "08", "v3.0 note", "90x stack x ~3x architecture vs the 280-fold", 280, "x", "arithmetic",
    lambda c: 90 * 3, rel_tol=0.05, note="270 ('roughly').",
))
register(Claim(
    "08-bins-18", "08", "§1", "Highest vs lowest GPQA bin decline rates (31x vs 1.7x per year)", 18, "x",
    "arithmetic", lambda c: 31 / 1.7, decimals=0, note="18.2.",
))
register(Claim(
    "08-w4-storage-75pct", "08", "§3", "Weight storage saved by 4-bit vs 16-bit weights", 0.75, "-", "arithmetic",
    lambda c: 1 - units.BYTES_PER_ELEMENT["fp4"] / units.BYTES_PER_ELEMENT["bf16"], decimals=2,
))
