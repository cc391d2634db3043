"""Paper 01 model functions: KV cache, roofline, queueing, architectures, decomposition."""

from costcorrect.serving.decomposition import (
    Decomposition,
    clip_colocation_slack,
    cpm_served_usd_per_mtok,
    decompose,
    prefill_share,
    prompt_tokens_for_share,
    token_convention_factor,
)
from costcorrect.serving.kv import (
    kv_bytes_per_token_gqa,
    kv_bytes_per_token_mla,
    kv_cache_bytes,
    kv_transfer_tax_usd_per_mtok,
    kv_transfer_time_s,
)
from costcorrect.serving.roofline import (
    Efficiency,
    ServingSetup,
    forward_time_s,
    single_stream_decode_tokens_per_s,
)

__all__ = [
    "Decomposition", "Efficiency", "ServingSetup", "clip_colocation_slack",
    "cpm_served_usd_per_mtok", "decompose", "forward_time_s", "kv_bytes_per_token_gqa",
    "kv_bytes_per_token_mla", "kv_cache_bytes", "kv_transfer_tax_usd_per_mtok",
    "kv_transfer_time_s", "prefill_share", "prompt_tokens_for_share",
    "single_stream_decode_tokens_per_s", "token_convention_factor",
]
