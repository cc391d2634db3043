"""Engine profiles (issue 14): per-engine efficiencies and scheduler defaults.

A profile (``catalog/data/engine_profiles.yaml``) has two parts:

* ``scheduler`` -- documented engine defaults, **not fitted**: which of the simulator's
  schedulers the engine's default corresponds to (vLLM V1 and TensorRT-LLM mix decode
  tokens into every prefill batch = ``chunked``; SGLang runs prefill batches ahead of
  decode by default = ``colocated``), its per-iteration token budget, its cap on running
  requests and its share of HBM for weights + KV.
* ``fitted`` -- a small number of efficiency parameters fitted on the Hopper measured
  file only (``data/measured/aic_silicon_sample_hopper.csv``; its sha256, the fit date
  and the residuals are stored beside the values):

  - ``mbu`` -- achieved share of peak HBM bandwidth in decode. Decode is memory-bound; no
    kernel reaches the spec-sheet bandwidth, and how close it gets is engine-specific.
  - ``mfu`` -- achieved share of dense peak FLOP/s in prefill (compute-bound GEMMs and
    attention); sets TTFT at large prompts.
  - ``overhead_ms`` -- fixed cost per iteration (scheduling, kernel launches, sampling,
    detokenisation); dominates TPOT at small batches of small models.
  - ``comm_latency_us`` -- fixed latency of one collective (all-reduce / all-to-all call)
    that the bandwidth-only ring model lacks; two per layer, so it grows with depth and is
    what makes TP 8 slower than bandwidth alone says.

``generic`` is the unfitted first-principles default (catalog ``efficiency.yaml``
assumptions, no collective latency).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from costcorrect.errors import InputError

PROFILE_NAMES = ("vllm", "sglang", "trtllm", "generic")
FITTED_KEYS = ("mbu", "mfu", "overhead_ms", "comm_latency_us")
SCHEDULER_KEYS = ("architecture", "chunk_tokens", "max_batch_tokens", "max_batch_requests", "memory_fraction")


@lru_cache(maxsize=1)
def load_profiles() -> dict:
    """All engine profiles from ``engine_profiles.yaml`` (package data)."""
    path = resources.files("costcorrect.catalog") / "data" / "engine_profiles.yaml"
    with path.open("r", encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    return doc["engines"]


def profile(name: str) -> dict:
    """One profile: ``{"scheduler": {...}, "fitted": {...} | None, "source": str}``."""
    profiles = load_profiles()
    if name not in profiles:
        raise InputError("engine", name, f"one of {', '.join(profiles)}")
    return profiles[name]


def efficiency_values(name: str) -> dict:
    """The efficiency parameters of a profile (fitted values, or generic's assumptions)."""
    p = profile(name)
    vals = p.get("fitted") or p.get("assumed") or {}
    return {k: float(vals[k]["value"]) for k in FITTED_KEYS if k in vals}


def label(name: str) -> str:
    """Provenance of a profile's efficiencies, for summaries."""
    p = profile(name)
    fit = p.get("fit")
    if fit:
        return (f"engine profile {name}: fitted {fit['date']} on {fit['data']} "
                f"(sha256 {fit['sha256'][:12]}..., {fit['rows']} rows)")
    return f"engine profile {name}: {p.get('status', 'assumed')}"


def scheduler_defaults(name: str) -> dict:
    return dict(profile(name)["scheduler"])
