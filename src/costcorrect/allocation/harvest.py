"""A third price line: rollouts on harvested serving slack (note 10), and the three-channel threshold.

Note 10 (ROSE, Gao et al. 2026, arXiv:2605.06534): rollouts that borrow idle serving GPUs
cost, at the margin, only the cooperative-elasticity overhead (weight transfer, scheduler
instrumentation, SLO-safety headroom) -- plus the risk the note says is unpriced: a
correlated burst of serving and training traffic that breaks the serving SLO. Here that
risk is an explicit, required charge (expected breach cost per harvested MTok), never a
silent zero.

Price lines [$/MTok of rollout tokens]:

- dedicated: the rollout/training cluster's price (``dedicated_usd_per_mtok``);
- harvested: ``overhead_share · serving_cpm + slo_risk`` (:func:`harvested_price_usd_per_mtok`);
- blended: a share ``harvest_share`` of rollouts on slack, the rest dedicated.

The threshold of paper 04 is then re-derived with three channels (training, dedicated
rollouts, harvested rollouts): each rollout channel's per-dollar return is
(η_ρ − s_ρ)/(ρ c_roll) with s_ρ its own cost share (:mod:`costcorrect.allocation.threshold`).
"""

from __future__ import annotations

import numpy as np

from costcorrect import units
from costcorrect.allocation.threshold import per_dollar_returns, rollout_cost_share

__all__ = [
    "blended_rollout_price_usd_per_mtok",
    "harvested_price_usd_per_mtok",
    "slo_risk_charge_usd_per_mtok",
    "three_channel_threshold",
    "throughput_cost_multiplier",
]


def slo_risk_charge_usd_per_mtok(burst_probability, breach_cost_usd_per_mtok):
    """Expected SLO-breach charge per harvested MTok: P(correlated burst) × cost of a breach (note 10). [$/MTok]

    >>> round(float(slo_risk_charge_usd_per_mtok(0.02, 5.0)), 6)
    0.1
    """
    return np.asarray(burst_probability, dtype=float) * np.asarray(breach_cost_usd_per_mtok, dtype=float)


def harvested_price_usd_per_mtok(serving_cpm_usd_per_mtok, overhead_share, slo_risk_usd_per_mtok):
    """Price of a rollout MTok on harvested slack: overhead × serving CPM + SLO-risk charge (note 10). [$/MTok]

    Parameters
    ----------
    serving_cpm_usd_per_mtok : numeric -- what the serving GPU costs per MTok when busy (CPM_served). [$/MTok]
    overhead_share : numeric -- cooperative-elasticity overhead as a share of that cost, in [0, 1]. [-]
    slo_risk_usd_per_mtok : numeric -- expected correlated-burst breach cost. [$/MTok]

    >>> round(float(harvested_price_usd_per_mtok(2.0, 0.15, 0.1)), 6)
    0.4
    """
    return (np.asarray(serving_cpm_usd_per_mtok, dtype=float) * np.asarray(overhead_share, dtype=float)
            + np.asarray(slo_risk_usd_per_mtok, dtype=float))


def blended_rollout_price_usd_per_mtok(harvest_share, harvested_usd_per_mtok, dedicated_usd_per_mtok):
    """Average rollout price with a share on harvested slack (note 10). [$/MTok]

    >>> float(blended_rollout_price_usd_per_mtok(0.5, 0.4, 2.0))
    1.2
    """
    h = np.asarray(harvest_share, dtype=float)
    return h * np.asarray(harvested_usd_per_mtok, dtype=float) + (1 - h) * np.asarray(dedicated_usd_per_mtok,
                                                                                       dtype=float)


def throughput_cost_multiplier(throughput_multiplier, harvested_cost_share=0.0):
    """Cost per rollout after a throughput gain m, when the borrowed capacity costs a share of the fleet. [-]

    Note 10: a throughput multiplier is a cost multiplier 1/m "only under the assumption that
    the borrowed capacity is genuinely free at the margin"; with harvested capacity costing
    ``harvested_cost_share`` of the dedicated fleet's bill per unit of extra throughput, the
    multiplier is (1 + (m − 1)·share)/m.

    >>> round(float(throughput_cost_multiplier(3.31)), 4), round(float(throughput_cost_multiplier(3.31, 0.2)), 4)
    (0.3021, 0.4417)
    """
    m = np.asarray(throughput_multiplier, dtype=float)
    return (1.0 + (m - 1.0) * np.asarray(harvested_cost_share, dtype=float)) / m


def three_channel_threshold(*, eta_t, eta_rho, rho, t_cost_usd, base_cost_usd, rollout_tokens,
                            dedicated_usd_per_mtok, harvested_usd_per_mtok) -> dict:
    """Paper 04's threshold with a third channel, rollouts on harvested slack (note 10).

    Parameters
    ----------
    eta_t, eta_rho : float -- elasticities of α in T and ρ. [-]
    rho : float -- rollouts per query. [-]
    t_cost_usd : float -- T·c_T, training dollars per query at the operating point. [$]
    base_cost_usd : float -- the base pass's dollars per query (not a rollout). [$]
    rollout_tokens : float -- tokens per rollout. [tokens]
    dedicated_usd_per_mtok, harvested_usd_per_mtok : float -- the two rollout price lines. [$/MTok]

    Returns
    -------
    dict -- per-dollar returns of the three channels, the winner, and the two-channel
    verdicts (training vs each rollout channel alone).

    >>> r = three_channel_threshold(eta_t=0.05, eta_rho=0.6, rho=1, t_cost_usd=1.0, base_cost_usd=0.01,
    ...     rollout_tokens=1e4, dedicated_usd_per_mtok=2.0, harvested_usd_per_mtok=0.4)
    >>> r["best_channel"]
    'harvested'
    """
    out = {"channels": {}}
    for name, price in (("dedicated", dedicated_usd_per_mtok), ("harvested", harvested_usd_per_mtok)):
        c_roll = float(price) * rollout_tokens / units.TOKENS_PER_MTOK
        share = float(rollout_cost_share(rho, c_roll, base_cost_usd))
        g_t, g_r = per_dollar_returns(eta_t, eta_rho, t_cost_usd, rho * c_roll, share)
        out["channels"][name] = {"rollout_cost_usd": c_roll, "rollout_cost_share": share,
                                 "g_per_usd": float(g_r), "beats_training": bool(g_r > g_t)}
    out["channels"]["training"] = {"g_per_usd": float(eta_t / t_cost_usd)}
    out["best_channel"] = max(out["channels"], key=lambda k: out["channels"][k]["g_per_usd"])
    return out
