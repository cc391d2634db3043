"""Note 10 (Harvesting Serving Slack): every computable statement, recomputed."""

from __future__ import annotations

from costcorrect.allocation import harvest as hv
from costcorrect.validation.registry import Claim, register

register(Claim(
    "10-free-slack-cost", "10", "What is missing", "Throughput x3.31 is a cost x1/3.31 if borrowed capacity is free",
    round(1 / 3.31, 4), "x", "model", lambda c: float(hv.throughput_cost_multiplier(3.31, 0.0)), decimals=4,
))
register(Claim(
    "10-paid-slack-cost", "10", "What is missing", "... and not when it is not free (slack at 20% of fleet cost)",
    "> 1/3.31", "x", "model", lambda c: float(hv.throughput_cost_multiplier(3.31, 0.2)),
    check=lambda v: v > 1 / 3.31, note="(1 + 2.31 x 0.2)/3.31 = 0.442.",
))
register(Claim(
    "10-marginal-cost-zero", "10", "What is interesting", "Marginal dollar cost of a harvested rollout falls toward 0",
    0.0, "$/MTok", "model",
    lambda c: float(hv.harvested_price_usd_per_mtok(2.0, 0.0, hv.slo_risk_charge_usd_per_mtok(0.01, 5.0))),
    check=lambda v: v == 0, expected_status="not-reproduced",
    note="Only with zero overhead and no SLO-risk charge. With a 1% chance of a correlated burst costing "
         "$5/MTok the floor is $0.05/MTok: the note itself says this risk is unpriced.",
))
register(Claim(
    "10-third-price-line", "10", "What is interesting", "Harvested rollouts can flip paper 04's threshold "
    "(a third price line)", "harvested", "-", "model",
    lambda c: hv.three_channel_threshold(eta_t=0.05, eta_rho=0.6, rho=1, t_cost_usd=1.0, base_cost_usd=0.01,
                                         rollout_tokens=1e4, dedicated_usd_per_mtok=2.0,
                                         harvested_usd_per_mtok=0.4)["best_channel"],
    note="Illustrative point: dedicated rollouts lose to training, harvested ones (5x cheaper) win.",
))
