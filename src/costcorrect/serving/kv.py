"""KV-cache size and the KV-transfer tax (paper 01 §4.3)."""

from __future__ import annotations

import numpy as np

from costcorrect import units


def kv_bytes_per_token_gqa(num_layers, num_kv_heads, head_dim, bytes_per_element):
    """KV-cache bytes per token for MHA/GQA attention (01 §4.3).

    ``2 * L * h_kv * d * b``: one key and one value vector per KV head per layer.

    Parameters
    ----------
    num_layers : numeric -- transformer layers L. [-]
    num_kv_heads : numeric -- key/value heads after GQA h_kv. [-]
    head_dim : numeric -- head dimension d. [-]
    bytes_per_element : numeric -- storage size of one KV element b (2 for BF16). [bytes]

    Returns
    -------
    numeric -- KV bytes per token. [bytes/token]

    Examples
    --------
    Llama-2-70B in BF16 (L=80, h_kv=8, d=128): 327,680 bytes = 320 KiB per token.

    >>> int(kv_bytes_per_token_gqa(80, 8, 128, 2))
    327680
    """
    return 2.0 * np.asarray(num_layers) * num_kv_heads * head_dim * bytes_per_element


def kv_bytes_per_token_mla(num_layers, kv_lora_rank, qk_rope_head_dim, bytes_per_element):
    """KV-cache bytes per token for multi-head latent attention (DeepSeek-V2/V3).

    MLA caches one compressed latent (``kv_lora_rank``) plus the decoupled RoPE key
    (``qk_rope_head_dim``) per layer, shared by all heads: ``L * (r + r_rope) * b``.
    This is our extension of 01 §4.3 to MLA layouts (DeepSeek-V3 report, §2.1.1).

    >>> int(kv_bytes_per_token_mla(61, 512, 64, 2))
    70272
    """
    return np.asarray(num_layers) * (kv_lora_rank + qk_rope_head_dim) * bytes_per_element


def kv_cache_bytes(kv_bytes_per_token, prompt_tokens):
    """KV bytes per request, ``KV_req = 2 L h_kv d b P`` (01 §4.3).

    Parameters
    ----------
    kv_bytes_per_token : numeric -- from :func:`kv_bytes_per_token_gqa`. [bytes/token]
    prompt_tokens : numeric -- prompt length P. [tokens]

    Returns
    -------
    numeric -- bytes of KV cache the prefill produces. [bytes]
    """
    return np.asarray(kv_bytes_per_token, dtype=float) * prompt_tokens


def kv_transfer_time_s(kv_bytes, bandwidth_gb_s):
    """Wall-clock time to move a request's KV cache, ``t_KV = KV_req / B`` (01 §4.3).

    Parameters
    ----------
    kv_bytes : numeric -- KV cache per request. [bytes]
    bandwidth_gb_s : numeric -- realized point-to-point bandwidth B. [GB/s = 1e9 B/s]

    Returns
    -------
    numeric -- transfer time. [s]

    Examples
    --------
    A 4096-token Llama-2-70B prompt (1.342 GB) over 50 GB/s takes 26.8 ms.

    >>> round(float(kv_transfer_time_s(327680 * 4096, 50.0)) * 1e3, 1)
    26.8
    """
    return np.asarray(kv_bytes, dtype=float) / units.gb_s_to_bytes_per_s(bandwidth_gb_s)


def kv_transfer_tax_usd_per_request(price_usd_per_hour, transfer_time_s, decode_batch, overlap_eta):
    """Dollars one request's KV transfer costs the decode instance (01 §4.3, with overlap η).

    While a request's KV slab arrives, its decode slot is reserved but idle; the slot is
    ``1 / b_dec`` of the decode instance. The un-hidden share of the transfer is
    ``(1 - η) t_KV`` (η = fraction overlapped with the first decode steps, 01 §4.3/§6.2).

    Parameters
    ----------
    price_usd_per_hour : numeric -- hourly price of the decode instance (all its GPUs). [$/h]
    transfer_time_s : numeric -- t_KV. [s]
    decode_batch : numeric -- realized decode batch b_dec on that instance. [requests]
    overlap_eta : numeric -- overlap factor η in [0, 1]. [-]

    Returns
    -------
    numeric -- cost per request. [$/request]; exactly linear in P through t_KV.
    """
    price_usd_per_s = units.usd_per_hour_to_usd_per_s(price_usd_per_hour)
    return price_usd_per_s * (1.0 - np.asarray(overlap_eta)) * transfer_time_s / decode_batch


def kv_transfer_tax_usd_per_mtok(
    price_usd_per_hour, transfer_time_s, prompt_tokens, output_tokens, decode_batch, overlap_eta=0.0
):
    """τ_KV, the KV-transfer tax per million (prompt + output) tokens (01 §4.3).

    ``(1-η) τ_KV = (1-η) · c_H · t_KV / ((P + D) · b_dec) · 10^6`` with ``c_H`` converted
    from $/h to $/s. The paper prints the formula with ``c_H`` in $/h and ``t_KV`` in s and
    no conversion; taken literally that overstates the tax 3600x. We keep the units
    consistent (see the ``01-tau-kv-units`` validation claim).

    Parameters
    ----------
    price_usd_per_hour : numeric -- hourly price of the decode instance. [$/h]
    transfer_time_s : numeric -- t_KV. [s]
    prompt_tokens, output_tokens : numeric -- P and D. [tokens]
    decode_batch : numeric -- b_dec. [requests]
    overlap_eta : numeric -- η in [0, 1]. [-]

    Returns
    -------
    numeric -- [$/MTok of prompt+output tokens]
    """
    per_request = kv_transfer_tax_usd_per_request(
        price_usd_per_hour, transfer_time_s, decode_batch, overlap_eta
    )
    return units.usd_per_token_to_usd_per_mtok(
        per_request / (np.asarray(prompt_tokens, dtype=float) + output_tokens)
    )
