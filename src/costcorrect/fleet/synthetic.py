"""Synthetic fleets for the scale study (issue 12 item 5): N models × 20 GPU configurations.

Models are catalog architectures under five workload profiles (chat, code, long context,
reasoning, batch), cycled, with log-normal demand. GPU configurations are 5 offers (A100,
H100 on-demand, H100 spot, H200, B200 at catalog prices) × tensor-parallel 1/2/4/8 = 20;
each configuration runs chunked prefill or disaggregated prefill/decode, so every model has
up to 40 (GPU, config) options. Capacities come from the closed-form serving model.

The instance is synthetic by construction: it exercises the planner at Coral's shape and
beyond; its numbers are not measurements.
"""

from __future__ import annotations

import numpy as np

from costcorrect.fleet.spec import ConfigSpec, FleetSpec

#: Catalog models that fit on at most 8 GPUs of some offered class in bf16.
SYNTH_MODELS = ("llama-3.1-8b", "qwen3-32b", "mixtral-8x7b", "llama-3.1-70b", "llama-2-70b",
                "gpt-oss-120b", "qwen3-235b-a22b", "minimax-m2.5", "llama-3.1-405b")

#: (label, prompt tokens, output tokens, SLO tier, accept rate α)
PROFILES = (
    ("chat", 1024.0, 256.0, "interactive", 0.80),
    ("code", 2048.0, 128.0, "interactive", 0.60),
    ("long", 8192.0, 512.0, "relaxed", 0.70),
    ("reason", 512.0, 2048.0, "relaxed", 0.55),
    ("batch", 2048.0, 512.0, "batch", 0.75),
)

#: (offer name, GPU, provider, offering, tier, available GPUs per 10 models or None)
OFFERS = (
    ("a100-coreweave", "a100-sxm-80gb", "coreweave", "on-demand", "on-demand", 96),
    ("h100-lambda", "h100-sxm", "lambda", "on-demand", "on-demand", 128),
    ("h100-coreweave-spot", "h100-sxm", "coreweave", "spot", "spot", 48),
    ("h200-hyperstack", "h200-sxm", "hyperstack", "on-demand", "on-demand", None),
    ("b200-hyperstack", "b200", "hyperstack", "on-demand", "on-demand", 32),
)


def synthetic_fleet(num_models: int, *, seed: int = 0, median_rate_per_s: float = 2.0,
                    sigma: float = 1.0, architectures=("chunked", "disaggregated")) -> FleetSpec:
    """A synthetic :class:`FleetSpec` with ``num_models`` models and closed-form capacity."""
    rng = np.random.default_rng(seed)
    models = []
    for j in range(num_models):
        base = SYNTH_MODELS[j % len(SYNTH_MODELS)]
        label, p, d, tier, alpha = PROFILES[(j // len(SYNTH_MODELS) + j) % len(PROFILES)]
        rate = float(median_rate_per_s * np.exp(sigma * rng.standard_normal()))
        # Bigger models get less traffic, as in a real catalogue of hosted models.
        rate = round(max(rate / (1.0 + SYNTH_MODELS.index(base) / 3.0), 0.05), 3)
        models.append({"name": f"{base}-{label}-{j}", "model": base, "demand_rate_per_s": rate,
                       "prompt_tokens": p, "output_tokens": d, "slo_tier": tier,
                       "accept_rate": round(float(np.clip(alpha + 0.1 * rng.standard_normal(), 0.2, 0.98)), 3),
                       "task": label})
    scale = max(num_models / 10.0, 1.0)
    offers = []
    for name, gpu, provider, offering, tier, avail in OFFERS:
        o = {"name": name, "gpu": gpu, "provider": provider, "offering": offering, "tier": tier,
             "gpus_per_node": 8}
        if avail is not None:
            o["available_gpus"] = int(8 * np.ceil(avail * scale / 8))
        if tier == "spot":
            o.update(interruption_rate_per_hour=0.05, recovery_s=600.0, interruption_cost_usd=20.0)
        offers.append(o)
    configs = [ConfigSpec(tensor_parallel=tp, architecture=a, default=(a == "chunked" and tp == 0)).model_dump()
               for tp in (1, 2, 4, 8) for a in architectures]
    return FleetSpec.model_validate({
        "name": f"synthetic-{num_models}", "models": models, "offers": offers,
        "capacity": {"source": "closed-form", "configs": configs},
    })
