"""Decode energy as an operator-cost term of CPM (note 11).

Note 11 (Ma, Afzal, Eitzinger, Wellein 2026, arXiv:2605.11999): on H200, decode draws
137-300 W of a 700 W board, so power caps never bind; locking the SM clock recovers up to
32 % of decode energy at minimal throughput loss. The energy term per decode MTok is

    E [J/token] = P [W] / throughput [tok/s];   $/MTok = E · 10⁶ / 3.6·10⁶ · PUE · price [$/kWh]

It is an *operator* cost: add it to a self-hosted CPM (CPM_served prices GPU-hours, not
electricity); API prices already include it.
"""

from __future__ import annotations

import numpy as np

from costcorrect import units

#: Up to 32 % of decode energy recovered by SM-clock locking (note 11 headline; measured on
#: H200 only, decode phase only, "at minimal throughput loss"). An upper bound, not a default
#: to assume on other GPUs.
SM_CLOCK_LOCK_DECODE_ENERGY_RECOVERY = {
    "value": 0.32,
    "source": "Ma, Afzal, Eitzinger & Wellein, 'The Illusion of Power Capping in LLM Decode', "
              "arXiv:2605.11999 (12 May 2026), as summarised in note 11 ('recovers up to 32% of decode energy')",
    "as_of": "2026-05-12",
    "scope": "H200, decode phase, up to",
}
#: Decode power draw range on a 700 W H200 (note 11). [W]
H200_DECODE_POWER_W = {"low": 137.0, "high": 300.0, "source": "note 11 / arXiv:2605.11999", "as_of": "2026-05-12"}


def energy_per_token_j(power_w, tokens_per_s):
    """Energy per decode token: board power / decode throughput (note 11). [J/token]

    >>> float(energy_per_token_j(300.0, 1500.0))
    0.2
    """
    return np.asarray(power_w, dtype=float) / np.asarray(tokens_per_s, dtype=float)


def decode_energy_usd_per_mtok(power_w, tokens_per_s, usd_per_kwh, pue=1.0, clock_lock_recovery=0.0):
    """Electricity cost of decode per MTok, with facility PUE and optional SM-clock-lock recovery (note 11). [$/MTok]

    Parameters
    ----------
    power_w : numeric -- GPU board power during decode. [W]
    tokens_per_s : numeric -- decode throughput of that GPU. [tok/s]
    usd_per_kwh : numeric -- electricity price. [$/kWh]
    pue : numeric -- power usage effectiveness (facility / IT energy), >= 1. [-]
    clock_lock_recovery : numeric -- share of decode energy saved by SM-clock locking, in [0, 1). [-]

    >>> round(float(decode_energy_usd_per_mtok(300.0, 1500.0, 0.10, 1.2)), 6)  # 0.2 J/tok
    0.006667
    """
    j_per_mtok = energy_per_token_j(power_w, tokens_per_s) * units.TOKENS_PER_MTOK
    kwh = units.joules_to_kwh(j_per_mtok) * np.asarray(pue, dtype=float)
    return kwh * np.asarray(usd_per_kwh, dtype=float) * (1.0 - np.asarray(clock_lock_recovery, dtype=float))


def cpm_with_energy_usd_per_mtok(cpm_usd_per_mtok, energy_usd_per_mtok, throughput_loss=0.0):
    """Self-hosted CPM plus the energy term; a throughput loss l raises the GPU-hour part by 1/(1−l) (note 11). [$/MTok]

    >>> round(float(cpm_with_energy_usd_per_mtok(1.0, 0.01, 0.02)), 6)
    1.030408
    """
    return np.asarray(cpm_usd_per_mtok, dtype=float) / (1.0 - np.asarray(throughput_loss, dtype=float)) + \
        np.asarray(energy_usd_per_mtok, dtype=float)
