"""Every unit conversion in costcorrect, once.

Conventions (see docs/nomenclature.md): ``_bytes`` raw bytes, ``_gb`` 1e9 bytes,
``_gib`` 2**30 bytes, ``_gb_s`` 1e9 bytes per second, ``_ms`` / ``_s`` time,
``_usd_per_hour`` price per hour, ``_usd_per_mtok`` US dollars per 1e6 tokens,
``_tflops`` 1e12 floating-point operations per second.
"""

from __future__ import annotations

import numpy as np

BYTES_PER_GB = 1e9
BYTES_PER_GIB = float(2**30)
BYTES_PER_KIB = 1024.0
SECONDS_PER_HOUR = 3600.0
MS_PER_S = 1e3
TOKENS_PER_MTOK = 1e6
FLOPS_PER_TFLOPS = 1e12

#: Bytes per element of the storage dtypes we model.
BYTES_PER_ELEMENT = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5}


def bytes_to_gb(x_bytes):
    return np.asarray(x_bytes, dtype=float) / BYTES_PER_GB


def bytes_to_gib(x_bytes):
    return np.asarray(x_bytes, dtype=float) / BYTES_PER_GIB


def gib_to_bytes(x_gib):
    return np.asarray(x_gib, dtype=float) * BYTES_PER_GIB


def gb_s_to_bytes_per_s(x_gb_s):
    return np.asarray(x_gb_s, dtype=float) * BYTES_PER_GB


def gbit_s_to_gb_s(x_gbit_s):
    """Network line rate in Gb/s (1e9 bits/s) to GB/s (1e9 bytes/s)."""
    return np.asarray(x_gbit_s, dtype=float) / 8.0


def tflops_to_flops(x_tflops):
    return np.asarray(x_tflops, dtype=float) * FLOPS_PER_TFLOPS


def s_to_ms(x_s):
    return np.asarray(x_s, dtype=float) * MS_PER_S


def ms_to_s(x_ms):
    return np.asarray(x_ms, dtype=float) / MS_PER_S


def usd_per_hour_to_usd_per_s(x_usd_per_hour):
    return np.asarray(x_usd_per_hour, dtype=float) / SECONDS_PER_HOUR


def usd_per_token_to_usd_per_mtok(x_usd_per_token):
    return np.asarray(x_usd_per_token, dtype=float) * TOKENS_PER_MTOK


def usd_per_mtok(price_usd_per_hour, tokens_per_s):
    """Dollars per million tokens for a bill of ``price_usd_per_hour`` producing ``tokens_per_s``.

    The one place where $/h and tokens/s meet: (price / 3600) / tokens_per_s * 1e6.
    Zero or negative throughput gives ``inf`` (nothing is delivered, the bill still runs).
    """
    price = usd_per_hour_to_usd_per_s(price_usd_per_hour)
    tps = np.asarray(tokens_per_s, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(tps > 0, price / np.where(tps > 0, tps, 1.0), np.inf)
    return usd_per_token_to_usd_per_mtok(out)


JOULES_PER_KWH = 3.6e6


def joules_to_kwh(x_joules):
    """Energy in joules (W·s) to kilowatt-hours."""
    return np.asarray(x_joules, dtype=float) / JOULES_PER_KWH
